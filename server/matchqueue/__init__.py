"""The matchmaking contract in Redis, shared by server nodes and the matchmaker process.

Keys (``keys.py``), the ticket and assignment encodings (``messages.py``), the node side
of the queue (``queue.py``: join, leave, estimates) and the node registry (``nodes.py``).
The matchmaker process (``matchmaker/``) imports this package; nothing here imports it.
"""
