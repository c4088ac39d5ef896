"""Tests of the matchmaker: party forming, quality, wait estimates, the benchmark."""
