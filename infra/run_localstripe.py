"""Run localstripe (the Stripe emulator) with its store in memory only.

localstripe pickles its whole store to /tmp/localstripe.pickle after every write: one file
shared by every localstripe on the machine, rewritten in full each time (slower and slower
as a test run creates objects), and read back at start. Here the store lives and dies with
the process. Runs under .venv-localstripe's Python; arguments are localstripe's own.
"""

from localstripe import resources, server

resources.Store.dump_to_disk = lambda self: None
resources.Store.try_load_from_disk = lambda self: None

if __name__ == "__main__":
    server.start()
