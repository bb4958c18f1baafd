#!/usr/bin/python3
"""Third-party back ends: the plugin SDK, the loader and the conformance
command, driven as a plugin author and an administrator would.

test_example_plugin_from_the_installed_sdk:
  1. `cmake --install --component sdk` puts the SDK into a fresh prefix;
  2. the example CSV plugin (examples/csv-plugin, copied out of the source
     tree so no relative path can reach it) is configured with pkg-config
     pointed at that prefix alone, and built;
  3. `conflux conformance --plugin conflux-csv.so` passes every case, the
     outage one included (--down/--up move the book directory away), and
     some again with books in Outlook's layout;
  4. a server with `adapter = "plugin"` serves the CSV books: SyncEvolution
     slow-syncs 6 contacts and they appear as rows of a Google-layout CSV;
     a spreadsheet then edits a row's phone, deletes a row and adds a row of
     its own, and the device's next two-way sync gets exactly those three
     changes.

test_refused_plugins: a plugin built for another ABI major, and a shared
object without the descriptor symbol, stop the server before it listens,
with one line naming the file, the ABIs and the fix, although a second,
good store is configured (the server never runs half-configured).

test_conformance_names_the_cases_a_broken_plugin_fails: the command run on
the deliberately broken C test plugin exits 1 and names exactly the cases
it breaks.

Needs CONFLUX_BUILD_DIR, CONFLUX_SOURCE_DIR and CONFLUX_TEST_PLUGIN_DIR
(CTest sets them) besides CONFLUX_BIN.
"""

import csv
import io
import os
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import vcards  # noqa: E402
from conflux_server import IntegrationTest, conflux_binary  # noqa: E402
from sync_summary import local_changes, parse_summary  # noqa: E402

DS = "contacts"
USER = "petra"
PASSWORD = "Plugin-pw-3"
N = 6
BUILD_TIMEOUT = 600  # configuring and building the example plugin


def env_dir(name):
    value = os.environ.get(name)
    if not value or not Path(value).is_dir():
        raise RuntimeError(f"{name} must name a directory (CTest sets it)")
    return Path(value)


def run(args, env=None, timeout=BUILD_TIMEOUT, check=True):
    proc = subprocess.run([str(a) for a in args], env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed "
                             f"({proc.returncode}):\n{proc.stdout[-4000:]}")
    return proc


def book_rows(path):
    """The CSV book as a list of dicts by header."""
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def write_book(path, header, rows):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=header, lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    tmp = path.parent / ".edit.tmp"
    tmp.write_text(out.getvalue(), "utf-8")
    os.replace(tmp, path)


class PluginTest(IntegrationTest):

    def build_example_plugin(self):
        """Installs the SDK into a fresh prefix and builds the example
        plugin against it; the .so's path."""
        prefix = self.tmp / "prefix"
        run(["cmake", "--install", env_dir("CONFLUX_BUILD_DIR"),
             "--component", "sdk", "--prefix", prefix])
        self.assertTrue((prefix / "include/conflux/sdk/adapter.h").is_file())
        pc = list(prefix.rglob("conflux-sdk.pc"))
        self.assertEqual(len(pc), 1, "one pkg-config file in the prefix")

        src = self.tmp / "csv-plugin"
        shutil.copytree(env_dir("CONFLUX_SOURCE_DIR") / "examples/csv-plugin",
                        src)
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc[0].parent),
                   PKG_CONFIG_LIBDIR=str(pc[0].parent))
        build = self.tmp / "csv-build"
        run(["cmake", "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release"],
            env=env)
        run(["cmake", "--build", build], env=env)
        so = build / "conflux-csv.so"
        self.assertTrue(so.is_file())
        return so

    def test_example_plugin_from_the_installed_sdk(self):
        so = self.build_example_plugin()
        binary = conflux_binary()

        # 3. The conformance command, outage included.
        books = self.tmp / "conformance-books"
        books.mkdir()
        away = self.tmp / "conformance-books.unmounted"
        proc = run([binary, "conformance", "--plugin", so,
                    "--option", f"directory={books}",
                    "--down", f"mv {books} {away}",
                    "--up", f"mv {away} {books}"], check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("ok       backend_down", proc.stdout)
        self.assertIn("ok       batch_1000", proc.stdout)
        self.assertIn(" 0 failed", proc.stdout)
        outlook = self.tmp / "outlook-books"
        outlook.mkdir()
        proc = run([binary, "conformance", "--plugin", so,
                    "--option", f"directory={outlook}",
                    "--option", "layout=outlook", "--case", "read",
                    "--case", "update", "--case", "changes_since_anchor"],
                   check=False)
        self.assertEqual(proc.returncode, 0, proc.stdout)
        self.assertIn("3 passed, 0 failed", proc.stdout)
        header = (outlook / "conformance-read/contacts.csv").read_text(
            "utf-8").splitlines()[0]
        self.assertTrue(header.startswith("First Name,Middle Name,Last Name"))

        # 4. The plugin serving SyncEvolution.
        books = self.tmp / "books"
        books.mkdir()
        server = self.make_server(
            f'[stores.contacts]\nadapter = "plugin"\nplugin = "{so}"\n'
            f'directory = "{books}"\nlayout = "google"\n'
            'content_type = "text/vcard"\ncontent_version = "3.0"\n')
        server.add_user(USER, PASSWORD)
        server.start()
        self.assertIn("plugin csv 1.0.0 (ABI 1.0, MIT)", server.log_text())

        originals = dict(vcards.generate(N, seed=16))
        a = self.make_device(server, "dev-a", USER, PASSWORD)
        for name, text in originals.items():
            a.write_item(DS, name, text)
        a.sync("slow", timeout=120)

        book = books / USER / f"{DS}.csv"
        rows = book_rows(book)
        self.assertEqual(len(rows), N)
        self.assertEqual({r["Name"] for r in rows},
                         {vcards.fn_of(t) for t in originals.values()})
        for r in rows:
            self.assertTrue(r["Conflux ID"])
            self.assertTrue(r["E-mail 1 - Value"].endswith("@example.org"))

        _, out = a.sync("two-way", timeout=120)
        self.assertEqual(local_changes(parse_summary(out)[DS]), (0, 0, 0))

        # A spreadsheet edits one row, deletes one and adds one of its own.
        header = next(csv.reader(io.StringIO(book.read_text("utf-8"))))
        edited, deleted = rows[0], rows[1]
        edited["Phone 1 - Value"] = "+49 30 5550 1616"
        added = {h: "" for h in header}
        added.update({"Name": "Hanna Handwritten", "Given Name": "Hanna",
                      "Family Name": "Handwritten",
                      "E-mail 1 - Type": "Home",
                      "E-mail 1 - Value": "hanna@example.org",
                      "Phone 1 - Type": "Mobile",
                      "Phone 1 - Value": "+49 30 5550 0000"})
        write_book(book, header, [edited] + rows[2:] + [added])

        _, out = a.sync("two-way", timeout=120)
        counts = parse_summary(out)[DS]
        self.assertEqual(local_changes(counts), (1, 1, 1), out[-3000:])
        on_device = vcards.by_fn(a.items(DS).values())
        self.assertNotIn(deleted["Name"], on_device)
        self.assertIn("+49 30 5550 1616", on_device[edited["Name"]])
        self.assertIn("hanna@example.org", on_device["Hanna Handwritten"])
        self.assertEqual(len(on_device), N)

        # The hand-written row got an id of its own when the book was next
        # written; the device edits that contact: the row changes in place.
        name, text = next((n, t) for n, t in a.items(DS).items()
                          if vcards.fn_of(t) == "Hanna Handwritten")
        a.write_item(DS, name, vcards.replace_property(
            text, "EMAIL", "EMAIL;TYPE=INTERNET,WORK:hanna@work.example"))
        a.sync("two-way", timeout=120)
        hanna = [r for r in book_rows(book) if r["Name"] == "Hanna Handwritten"]
        self.assertEqual(len(hanna), 1)
        self.assertEqual(hanna[0]["E-mail 1 - Value"], "hanna@work.example")
        self.assertTrue(hanna[0]["Conflux ID"])
        server.stop()

    def start_refused(self, plugin):
        """Starts a server with a good sqlite store and a store of `plugin`;
        the one log line that says why the plugin's store is unavailable
        (the server runs the good store meanwhile)."""
        server = self.make_server(
            '[stores.notes]\nadapter = "sqlite"\n'
            'content_type = "text/plain"\n'
            f'[stores.contacts]\nadapter = "plugin"\nplugin = "{plugin}"\n'
            'content_type = "text/vcard"\n', name=plugin.stem)
        server.start()
        refusals = [line for line in server.log_text().splitlines()
                    if "datastore 'contacts' is unavailable" in line]
        self.assertEqual(len(refusals), 1, server.log_text())
        self.assertEqual(
            [line for line in server.log_text().splitlines() if "datastore 'notes'" in line], [])
        server.stop()
        return refusals[0]

    def test_refused_plugins(self):
        plugins = env_dir("CONFLUX_TEST_PLUGIN_DIR")
        abi2 = plugins / "abi2_plugin.so"
        line = self.start_refused(abi2)
        self.assertIn(f"stores.contacts.plugin: {abi2}: built for plugin ABI "
                      "2.0, this Conflux speaks 1.0; upgrade Conflux", line)

        no_entry = plugins / "no_entry_plugin.so"
        line = self.start_refused(no_entry)
        self.assertIn(f"stores.contacts.plugin: {no_entry}: is not a Conflux "
                      "plugin: it exports no cfx_adapter_entry", line)
        self.assertIn("declare it with CFX_ADAPTER_ENTRY", line)

    def test_conformance_names_the_cases_a_broken_plugin_fails(self):
        plugins = env_dir("CONFLUX_TEST_PLUGIN_DIR")
        down = self.tmp / "down"
        proc = run([conflux_binary(), "conformance",
                    "--plugin", plugins / "broken_plugin.so",
                    "--option", f"down_file={down}",
                    "--down", f"touch {down}", "--up", f"rm {down}"],
                   check=False)
        self.assertEqual(proc.returncode, 1, proc.stdout)
        failed = [line.split()[1].rstrip(":")
                  for line in proc.stdout.splitlines()
                  if line.startswith("FAILED")]
        self.assertEqual(failed, ["delete", "changes_since_anchor",
                                  "item_5mb"], proc.stdout)
        self.assertIn("3 failed", proc.stdout)

        # The correct build of the same plugin passes; its accounts are
        # checked with the right password too.
        password = self.tmp / "password"
        password.write_text("right-password\n")
        good = run([conflux_binary(), "conformance",
                    "--plugin", plugins / "memory_plugin.so",
                    "--login", "ann", "--password-file", password],
                   check=False)
        self.assertEqual(good.returncode, 0, good.stdout)
        self.assertIn("ok       bad_credentials", good.stdout)
        self.assertIn("skipped  backend_down: give --down and --up", good.stdout)
        self.assertNotIn("right-password", good.stdout)


if __name__ == "__main__":
    unittest.main()
