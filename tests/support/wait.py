"""Waiting on a condition with a deadline: tests synchronise on events (a counter moves, a state
changes), never on sleeps of a guessed length."""
import time


def wait_for(pred, timeout=10.0, step=0.02):
    """True as soon as pred() is; after `timeout` seconds, pred()'s last answer as a bool."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())
