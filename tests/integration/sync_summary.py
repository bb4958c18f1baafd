"""Read the "Changes applied during synchronization" table that the
SyncEvolution command line prints after each sync:

    |        Source | NEW | MOD | DEL | ERR | NEW | MOD | DEL | ERR | CTS |
    |      contacts |  0  |  0  |  0  |  0  | 100 |  0  |  0  |  0  |  0  |

The first four counts are LOCAL (what the client changed in its own
database), the next four REMOTE (what it sent to the server), the last the
conflicts.  REMOTE counts are the client's view, not server facts (a second
slow sync reports matched items as new); tests use them only as a check on
what the client did, and read the server back through another device.
"""

import re
from collections import namedtuple

Counts = namedtuple("Counts", "local_new local_mod local_del local_err "
                              "remote_new remote_mod remote_del remote_err "
                              "conflicts")

_ROW = re.compile(r"^\|\s*([^|]+?)\s*((?:\|\s*\d+\s*){9})\|\s*$")


def parse_summary(output):
    """{datastore: Counts} from a sync's output; the last table wins when
    there are several.  Raises ValueError when there is none."""
    found = {}
    for line in output.splitlines():
        m = _ROW.match(line.strip())
        if m:
            nums = [int(x) for x in re.findall(r"\d+", m.group(2))]
            found[m.group(1)] = Counts(*nums)
    if not found:
        raise ValueError("no sync summary table in output:\n" + output[-3000:])
    return found


def local_changes(counts):
    return (counts.local_new, counts.local_mod, counts.local_del)


def remote_changes(counts):
    return (counts.remote_new, counts.remote_mod, counts.remote_del)
