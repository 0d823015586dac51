"""One-line and wrapped reports of commands and their output, for logs."""

from textkit import shlex, textwrap


def command_line(args):
    """The command as a POSIX shell would read it back into `args`."""
    return shlex.join(args)


def summary(title, body, width=60):
    """`title: body` on one line of at most `width` characters, the body cut at a word."""
    room = width - len(title) - 2
    return f"{title}: {textwrap.shorten(body, width=room, placeholder=' ...')}"


def wrapped(body, width=60, indent="    "):
    """`body` filled to `width` columns, every line indented by `indent`."""
    return textwrap.indent(textwrap.fill(body, width=width - len(indent)), indent)
