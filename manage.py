#!/usr/bin/env python
"""Django's command-line utility; the installed `joinedup` command does the same."""

from joinedup.__main__ import main

if __name__ == "__main__":
    main()
