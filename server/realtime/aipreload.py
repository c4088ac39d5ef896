"""Imported by the forkserver of the offline AI pool: loads the engines once, so that every
worker forked from it starts warm (see :mod:`server.realtime.aipool`).  Nothing else
imports this module: importing it is what does the work."""

from server.realtime.aiworker import die_with_parent, warm

die_with_parent()  # the forkserver dies with the node; its workers die with it
warm()
