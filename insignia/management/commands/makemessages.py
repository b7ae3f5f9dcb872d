"""Django's makemessages without fuzzy matching.

msgmerge's fuzzy matching copies a similar string's translation onto a new string; a wrong
translation with mismatched placeholders is worse than a missing one that the catalogue check
reports.
"""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
