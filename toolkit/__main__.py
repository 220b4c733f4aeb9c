"""``python -m toolkit`` is the ``crm`` command."""

from .cli import main

main()
