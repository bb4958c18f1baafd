#!/usr/bin/python3
"""One data directory, one server: a second server started on a data
directory another one uses refuses to start, with a message that says why,
before it opens anything in it; the first server goes on serving.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_data_dir_lock.py
"""

import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import (IntegrationTest, conflux_binary,  # noqa: E402
                            http_request)


class DataDirLockTest(IntegrationTest):
    def test_second_server_on_a_locked_data_directory_refuses_to_start(self):
        first = self.make_server()
        first.start()
        second = self.make_server(
            config_extra=f'[storage]\ndata_dir = "{first.data_dir}"\n', name="second")
        proc = subprocess.run([conflux_binary(), "--config", str(second.config_path), "serve"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=60)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        self.assertIn("another server uses this data directory", proc.stdout)
        self.assertNotIn("listening", proc.stdout)

        # The first server still serves, and its pid file still names it.
        status, _, body = http_request(first.base_url + "/health")
        self.assertEqual((status, body.strip()), (200, b"ok"))
        self.assertEqual((first.data_dir / "conflux.pid").read_text().strip(), str(first.proc.pid))
        first.stop()

        # Once the first stopped, the directory is free for the second.
        second.start()
        second.stop()


if __name__ == "__main__":
    unittest.main()
