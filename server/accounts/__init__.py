"""Accounts: password hashing, tokens, name rules and the users store."""
