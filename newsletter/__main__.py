"""``python -m newsletter``: the CLI."""

from newsletter.cli import main

if __name__ == "__main__":
    main()
