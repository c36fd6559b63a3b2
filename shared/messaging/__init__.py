"""Messaging that never loses an event: outbox, inbox, batch consumption and dead letters."""
