#!/usr/bin/python3
"""Run a command as the child of a child subreaper, so its whole process
tree stays measurable.

Usage: reaper.py COMMAND [ARGS...]

D-Bus activation double-forks: syncevo-dbus-server's parent exits at once,
so the server (and the helper it forks per sync session) would be
re-parented to init and drop out of the tree rooted at the command.  With
PR_SET_CHILD_SUBREAPER this process adopts them instead and reaps every
descendant that exits, which adds its CPU time to this process's
cutime/cstime: the benchmark reads utime+stime+cutime+cstime over the tree
rooted here.  SIGTERM and SIGINT are passed on to the command; once it has exited,
the rest of this process group gets SIGTERM.  The exit status is the
command's.  Start it in a process group of its own.
"""

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        print(f"reaper: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}",
              file=sys.stderr)
        return 1
    child = os.fork()
    if child == 0:
        try:
            os.execvp(argv[0], argv)
        finally:
            os._exit(127)

    def forward(signum, _frame):
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)

    status = None
    while True:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break           # nothing left to reap
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            # Adopted descendants still running get SIGTERM too (they are
            # in this process group unless they made their own).
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(os.getpgrp(), signal.SIGTERM)
    return 0 if status is None else (status if status >= 0 else 128 - status)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
