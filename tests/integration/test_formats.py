#!/usr/bin/python3
"""Format negotiation, fields a device cannot hold, and per-item errors
(issue #5), against the real conflux binary over HTTP.

- A SyncEvolution device configured as a vCard 2.1 phone (syncFormat
  text/x-vcard) receives contacts stored as 3.0 in 2.1, with
  QUOTED-PRINTABLE and CHARSET (read from its own dumps of the messages it
  received), and its update is stored as 3.0 without losing fields.
- A hand-driven device whose DevInf CTCap lacks NOTE and allows one ADR
  sends an update: the NOTE and the second ADR survive on the server.
- A SyncEvolution device configured as a vCalendar 1.0 phone, in UTC+13,
  receives an all-day event stored as iCalendar 2.0 in 1.0 and its update
  keeps the date.
- A SyncEvolution device (its CTCap lists NOTE) deletes a NOTE: the server's
  copy loses it too.
- Malformed vCards and iCalendar objects from the corpus (tests/data/*/
  malformed, see the MANIFESTs there), and an event sent to the contacts
  datastore, fail one by one (400, 415) with one log line each; the good
  items of the same Sync are stored and the server keeps serving.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_formats.py
"""

import base64
import html
import re
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest  # noqa: E402
from engine_checks import server_items  # noqa: E402
from syncml_client import RawSession, alert_cmd, basic_cred  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
USER = "fmt"
PASSWORD = "Formats-pw-5"

# Stored as 3.0; a 2.1 device must get the umlauts as QUOTED-PRINTABLE.
ADA = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jürgen Weiß\r\nN:Weiß;Jürgen;;;\r\n"
       "TEL;TYPE=CELL:+49 30 1111\r\n"
       "ADR;TYPE=HOME:;;Hauptstraße 1;Berlin;;10115;Germany\r\n"
       "ADR;TYPE=WORK:;;Werkweg 2;Potsdam;;14467;Germany\r\n"
       "NOTE:Met at the Leipzig fair\r\nEND:VCARD\r\n")

ALL_DAY = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Conflux tests//formats//EN\r\n"
           "BEGIN:VEVENT\r\nUID:holiday-1@example.org\r\nDTSTAMP:20250101T000000Z\r\n"
           "DTSTART;VALUE=DATE:20250301\r\nDTEND;VALUE=DATE:20250302\r\nSUMMARY:Holiday\r\n"
           "END:VEVENT\r\nEND:VCALENDAR\r\n")


def devinf(rx_pref, ctcap_properties):
    """A DevInf 1.2 for a phone whose ./contacts prefers rx_pref (type,
    version) and holds ctcap_properties [(name, max_occur or None)]."""
    props = "".join(
        f"<Property><PropName>{name}</PropName>"
        + (f"<MaxOccur>{occ}</MaxOccur>" if occ else "") + "</Property>"
        for name, occ in ctcap_properties)
    ctype, ver = rx_pref
    return ("<DevInf xmlns='syncml:devinf'><VerDTD>1.2</VerDTD><Man>Test</Man>"
            "<Mod>Limited phone</Mod><FwV/><SwV/><HwV/><DevID>phone</DevID>"
            "<DevTyp>phone</DevTyp><DataStore><SourceRef>./contacts</SourceRef>"
            f"<Rx-Pref><CTType>{ctype}</CTType><VerCT>{ver}</VerCT></Rx-Pref>"
            f"<Tx-Pref><CTType>{ctype}</CTType><VerCT>{ver}</VerCT></Tx-Pref>"
            f"<CTCap><CTType>{ctype}</CTType><VerCT>{ver}</VerCT>{props}</CTCap>"
            "<SyncCap><SyncType>1</SyncType><SyncType>2</SyncType></SyncCap>"
            "</DataStore></DevInf>")


def item_cmd(tag, cmd_id, luid, data, mime, b64=False):
    """One Add/Replace of one item; b64 sends the bytes base64-encoded
    (Meta Format b64), which binary fuzz inputs need to travel in XML."""
    if b64:
        fmt = "<Format xmlns='syncml:metinf'>b64</Format>"
        payload = base64.b64encode(data).decode()
    else:
        fmt = ""
        payload = f"<![CDATA[{data}]]>"
    return (f"<{tag}><CmdID>{cmd_id}</CmdID><Meta><Type xmlns='syncml:metinf'>"
            f"{mime}</Type>{fmt}</Meta><Item><Source><LocURI>{luid}</LocURI>"
            f"</Source><Data>{payload}</Data></Item></{tag}>")


class Phone(RawSession):
    """A hand-driven device that may Put a DevInf and sends items of any
    type; remembers the Meta Type of every item the server sent."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.received_types = {}   # server id -> Meta Type

    def _answer(self, reply):
        super()._answer(reply)
        for sync in reply.commands("Sync"):
            for cmd in sync:
                if cmd.tag in ("Add", "Replace"):
                    for item in cmd.findall("Item"):
                        self.received_types[item.findtext("Source/LocURI") or
                                            item.findtext("Target/LocURI")] = \
                            item.findtext("Meta/Type") or cmd.findtext("Meta/Type")

    def begin(self, alert, last, next_anchor, devinf_xml=None):
        put = ""
        if devinf_xml:
            put = ("<Put><CmdID>2</CmdID><Meta><Type xmlns='syncml:metinf'>"
                   "application/vnd.syncml-devinf+xml</Type></Meta><Item><Source>"
                   f"<LocURI>./devinf12</LocURI></Source><Data>{devinf_xml}</Data>"
                   "</Item></Put>")
        reply = self._send(alert_cmd(1, alert, self.datastore, self.local, last,
                                     next_anchor) + put + "<Final/>",
                           basic_cred(self.user, self.password))
        reply = self._continue_until_final(reply)
        alerts = reply.statuses("Alert")
        assert alerts and int(alerts[0].findtext("Data")) == 200, reply.text()
        return reply

    def send(self, commands):
        """pkg 3 with commands: [(tag, luid, data, mime, b64)]."""
        statuses, cmd_id = self._status_xml(1)
        sync_id, cmd_id = cmd_id, cmd_id + 1
        body = []
        for tag, luid, data, mime, b64 in commands:
            body.append(item_cmd(tag, cmd_id, luid, data, mime, b64))
            cmd_id += 1
        reply = self._send(
            statuses + f"<Sync><CmdID>{sync_id}</CmdID><Target><LocURI>"
            f"{self.datastore}</LocURI></Target><Source><LocURI>{self.local}"
            f"</LocURI></Source>" + "".join(body) + "</Sync><Final/>")
        return self._continue_until_final(reply)

    def code_for(self, luid):
        codes = [code for _, ref, code in self.item_statuses if ref == luid]
        assert len(codes) == 1, f"{luid}: {self.item_statuses}"
        return codes[0]


def card_with(fn):
    return f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{fn}\r\nN:{fn};;;;\r\nEND:VCARD\r\n"


def server_card(server, fn_part):
    cards = [c for c in server_items(server, USER) if fn_part in c]
    assert len(cards) == 1, cards
    return cards[0]


class FormatsTest(IntegrationTest):

    def setUp(self):
        super().setUp()
        self.server = self.make_server()
        self.server.start()
        self.server.add_user(USER, PASSWORD)

    def seed(self, text, device="seeder"):
        """Stores text through a device that sends no DevInf (kept as sent)."""
        s = Phone(self.server.url, device, USER, PASSWORD)
        s.begin(201, None, "1")
        s.send([("Add", "s1", text, "text/vcard", False)])
        s.finish()
        self.assertEqual(s.code_for("s1"), 201)

    def test_vcard21_syncevolution_gets_21_and_its_update_is_stored_as_30(self):
        self.seed(ADA)
        phone = self.make_device(
            self.server, "phone21", USER, PASSWORD,
            datastores={"contacts": ("text/vcard", "contacts")},
            extra={"contacts/syncFormat": "text/x-vcard", "loglevel": "5"})
        phone.sync("slow")

        # What travelled: SyncEvolution's own dumps of the messages it got.
        received = "".join(
            html.unescape(p.read_text(errors="replace"))
            for p in Path(phone.session_log_dir()).glob("*_msg*_incoming.xml"))
        cards = set(re.findall(r"BEGIN:VCARD.*?END:VCARD", received, re.S))
        self.assertEqual(len(cards), 1, received[-3000:])
        wire, = cards
        self.assertIn("VERSION:2.1", wire)
        self.assertRegex(wire, r"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen Wei=C3=9F")
        self.assertIn("text/x-vcard", received)

        # The phone changes the number; its update comes back as 2.1.
        (name, text), = phone.items("contacts").items()
        self.assertIn("Jürgen", text)
        phone.write_item("contacts", name, text.replace("+49 30 1111", "+49 30 2222"))
        phone.sync("two-way")

        stored = server_card(self.server, "Weiß")
        self.assertIn("VERSION:3.0", stored)
        self.assertIn("+49 30 2222", stored)
        self.assertNotIn("+49 30 1111", stored)
        self.assertIn("NOTE:Met at the Leipzig fair", stored)
        self.assertIn("Hauptstraße 1", stored)
        self.assertIn("Werkweg 2", stored)

    def test_vcalendar10_syncevolution_gets_10_and_all_day_keeps_its_date(self):
        seeder = Phone(self.server.url, "seeder", USER, PASSWORD, datastore="calendar", local="./calendar")
        seeder.begin(201, None, "1")
        seeder.send([("Add", "e1", ALL_DAY, "text/calendar", False)])
        seeder.finish()
        self.assertEqual(seeder.code_for("e1"), 201)

        phone = self.make_device(
            self.server, "phone10", USER, PASSWORD,
            datastores={"calendar": ("text/calendar", "calendar")},
            extra={"calendar/syncFormat": "text/x-vcalendar", "loglevel": "5"})
        phone.env["TZ"] = "Pacific/Tongatapu"  # UTC+13: a shifted date would show
        phone.sync("slow")

        received = "".join(
            html.unescape(p.read_text(errors="replace"))
            for p in Path(phone.session_log_dir()).glob("*_msg*_incoming.xml"))
        events = set(re.findall(r"BEGIN:VCALENDAR.*?END:VCALENDAR", received, re.S))
        self.assertEqual(len(events), 1, received[-2000:])
        wire, = events
        self.assertIn("VERSION:1.0", wire)
        self.assertIn("DTSTART:20250301T000000", wire)
        self.assertIn("text/x-vcalendar", received)

        (name, text), = phone.items("calendar").items()
        self.assertRegex(text, r"DTSTART;VALUE=DATE:20250301\r?\n")
        phone.write_item("calendar", name, text.replace("SUMMARY:Holiday", "SUMMARY:Day off"))
        phone.sync("two-way")

        stored, = server_items(self.server, USER, "calendar")
        self.assertIn("VERSION:2.0", stored)
        self.assertIn("SUMMARY:Day off", stored)
        self.assertRegex(stored, r"DTSTART;VALUE=DATE:20250301\r?\n")

    def test_update_from_limited_phone_keeps_note_and_second_adr(self):
        self.seed(ADA)
        caps = [("BEGIN", None), ("END", None), ("VERSION", None), ("N", 1),
                ("FN", 1), ("TEL", None), ("ADR", 1)]
        phone = Phone(self.server.url, "limited-phone", USER, PASSWORD)
        phone.begin(201, None, "1", devinf(("text/x-vcard", "2.1"), caps))
        phone.send([])
        (guid, wire), = phone.received.items()
        self.assertEqual(phone.received_types[guid], "text/x-vcard")
        self.assertIn("VERSION:2.1", wire)
        self.assertIn("CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE", wire)
        (_, luid), = phone.maps
        phone.finish()

        # What the phone shows: one address, no note; the user changes the number.
        update = ("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8:Weiß;Jürgen\r\n"
                  "FN;CHARSET=UTF-8:Jürgen Weiß\r\nTEL;CELL:+49 30 3333\r\n"
                  "ADR;HOME;CHARSET=UTF-8:;;Hauptstraße 1;Berlin;;10115;Germany\r\n"
                  "END:VCARD\r\n")
        again = Phone(self.server.url, "limited-phone", USER, PASSWORD, session_id="2")
        again.begin(200, "1", "2")
        again.send([("Replace", luid, update, "text/x-vcard", False)])
        again.finish()
        self.assertEqual(again.code_for(luid), 200)

        stored = server_card(self.server, "Weiß")
        self.assertIn("VERSION:3.0", stored)
        self.assertIn("+49 30 3333", stored)
        self.assertNotIn("+49 30 1111", stored)
        self.assertIn("NOTE:Met at the Leipzig fair", stored)
        self.assertIn("Hauptstraße 1", stored)
        self.assertIn("Werkweg 2", stored)

    def test_note_deleted_on_syncevolution_is_deleted_on_server(self):
        phone = self.make_device(self.server, "evo", USER, PASSWORD)
        phone.write_item("contacts", "grace.vcf",
                         "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Grace Hopper\r\n"
                         "N:Hopper;Grace;;;\r\nTEL;TYPE=WORK:+1 555 0100\r\n"
                         "NOTE:Admiral\r\nEND:VCARD\r\n")
        phone.sync("slow")
        self.assertIn("NOTE:Admiral", server_card(self.server, "Grace"))

        text = phone.items("contacts")["grace.vcf"]
        without = "".join(line for line in text.splitlines(keepends=True)
                          if not line.startswith("NOTE"))
        self.assertNotEqual(without, text)
        phone.write_item("contacts", "grace.vcf", without)
        phone.sync("two-way")

        # SyncEvolution sends its fixed slots, so the NOTE line stays, empty.
        stored = server_card(self.server, "Grace")
        self.assertNotIn("Admiral", stored)
        self.assertIn("+1 555 0100", stored)

    def test_malformed_items_fail_alone_and_the_rest_is_stored(self):
        vcards = sorted((DATA / "vcard" / "malformed").glob("*.vcf"))
        icals = sorted((DATA / "ical" / "malformed").glob("*.ics"))
        self.assertEqual((len(vcards), len(icals)), (3, 8))

        contacts = Phone(self.server.url, "fuzzer", USER, PASSWORD)
        contacts.begin(201, None, "1")
        cmds = [("Add", "good-1", card_with("Good One"), "text/vcard", False)]
        cmds += [("Add", f"bad-{p.stem}", p.read_bytes(), "text/vcard", True) for p in vcards]
        event = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
                 b"UID:x@example.org\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250101T100000Z\r\n"
                 b"END:VEVENT\r\nEND:VCALENDAR\r\n")
        cmds += [("Add", "event-in-contacts", event, "text/calendar", True)]
        cmds += [("Add", "good-2", card_with("Good Two"), "text/vcard", False)]
        contacts.send(cmds)
        contacts.finish()
        self.assertEqual(contacts.code_for("good-1"), 201)
        self.assertEqual(contacts.code_for("good-2"), 201)
        for p in vcards:
            self.assertEqual(contacts.code_for(f"bad-{p.stem}"), 400, p.name)
        self.assertEqual(contacts.code_for("event-in-contacts"), 415)
        fns = sorted(re.search(r"FN:(.*)\r\n", c).group(1) for c in server_items(self.server, USER))
        self.assertEqual(fns, ["Good One", "Good Two"])

        calendar = Phone(self.server.url, "fuzzer", USER, PASSWORD, datastore="calendar",
                         local="./calendar", session_id="2")
        calendar.begin(201, None, "1")
        good_event = ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\n"
                      "UID:good-event@example.org\r\nDTSTAMP:20250101T000000Z\r\n"
                      "DTSTART;VALUE=DATE:20250301\r\nSUMMARY:Good event\r\nEND:VEVENT\r\n"
                      "END:VCALENDAR\r\n")
        cmds = [("Add", "good-event", good_event, "text/calendar", False)]
        cmds += [("Add", f"bad-{p.stem}", p.read_bytes(), "text/calendar", True) for p in icals]
        calendar.send(cmds)
        calendar.finish()
        self.assertEqual(calendar.code_for("good-event"), 201)
        for p in icals:
            self.assertEqual(calendar.code_for(f"bad-{p.stem}"), 400, p.name)
        events = server_items(self.server, USER, "calendar")
        self.assertEqual(len(events), 1)
        self.assertIn("Good event", events[0])

        # One line per refused item, naming it and the parser's reason.
        log = self.server.log_text()
        for p in vcards + icals:
            lines = [l for l in log.splitlines() if f"item bad-{p.stem} refused with 400" in l]
            self.assertEqual(len(lines), 1, p.name)
            self.assertIn(f"user {USER} device fuzzer", lines[0])
        self.assertIn("item event-in-contacts refused with 415", log)

        # The server goes on serving.
        later = Phone(self.server.url, "fuzzer-2", USER, PASSWORD, session_id="3")
        later.begin(201, None, "1")
        later.send([])
        later.finish()
        self.assertEqual(len(later.received), 2)  # the two good cards, nothing else


if __name__ == "__main__":
    unittest.main()
