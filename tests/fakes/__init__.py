"""Recording fakes of outside services, served over real loopback sockets."""
