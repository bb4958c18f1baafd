#!/usr/bin/python3
"""A Funambol-style SIF device and a SyncEvolution device share one account
(issue #17), against the real conflux binary over HTTP.

- A hand-driven client that speaks SIF as Funambol's Outlook plug-in does
  (DevInf with Rx-Pref text/x-s4j-sifc / -sife, items base64 with Meta Format
  b64) adds a contact and a recurring event with a reminder.
- SyncEvolution (vCard 3.0 / iCalendar 2.0) receives them with their fields.
- SyncEvolution edits the contact; the SIF device's next two-way sync gets a
  Replace in SIF-C, base64, with the new telephone number and the fields it
  had before.

Run: CONFLUX_BIN=/path/to/conflux /usr/bin/python3 test_sif_devices.py
"""

import base64
import sys
import unittest
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conflux_server import IntegrationTest  # noqa: E402
from syncml_client import RawSession, alert_cmd, basic_cred  # noqa: E402

USER = "sif"
PASSWORD = "Sif-devices-17"
DEVICE = "fol-sif-device-1"

CONTACT = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><contact><FirstName>Jürgen</FirstName>"
           "<LastName>Weiß</LastName><FileAs>Weiß, Jürgen</FileAs><CompanyName>ACME</CompanyName>"
           "<JobTitle>Engineer</JobTitle><Email1Address>juergen@example.com</Email1Address>"
           "<BusinessTelephoneNumber>+49 30 1111</BusinessTelephoneNumber>"
           "<HomeAddressStreet>Hauptstraße 1</HomeAddressStreet><HomeAddressCity>Berlin</HomeAddressCity>"
           "<Birthday>1970-05-01</Birthday><Body>Met at the fair</Body>"
           "<BillingInformation>cost centre 7</BillingInformation></contact>")

EVENT = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><appointment><Subject>Team meeting</Subject>"
         "<Location>Room 4</Location><Body>Weekly</Body><Start>20250106T090000Z</Start>"
         "<End>20250106T100000Z</End><AllDayEvent>0</AllDayEvent><ReminderSet>1</ReminderSet>"
         "<ReminderMinutesBeforeStart>15</ReminderMinutesBeforeStart><IsRecurring>1</IsRecurring>"
         "<RecurrenceType>1</RecurrenceType><Interval>1</Interval><DayOfWeekMask>2</DayOfWeekMask>"
         "<NoEndDate>0</NoEndDate><Occurrences>10</Occurrences><BusyStatus>2</BusyStatus></appointment>")


def devinf_put(cmd_id):
    """The DevInf of a Funambol-style client: SIF for contacts and calendar."""
    def datastore(local, sif):
        return (f"<DataStore><SourceRef>{local}</SourceRef>"
                f"<Rx-Pref><CTType>{sif}</CTType><VerCT>1.0</VerCT></Rx-Pref>"
                f"<Tx-Pref><CTType>{sif}</CTType><VerCT>1.0</VerCT></Tx-Pref>"
                "<SyncCap><SyncType>1</SyncType><SyncType>2</SyncType></SyncCap></DataStore>")
    return (f"<Put><CmdID>{cmd_id}</CmdID><Meta><Type xmlns='syncml:metinf'>"
            "application/vnd.syncml-devinf+xml</Type></Meta><Item><Source>"
            "<LocURI>./devinf12</LocURI></Source><Data><DevInf xmlns='syncml:devinf'>"
            "<VerDTD>1.2</VerDTD><Man>Funambol</Man><Mod>Outlook Sync Client</Mod>"
            f"<DevID>{DEVICE}</DevID><DevTyp>workstation</DevTyp>"
            + datastore("scard", "text/x-s4j-sifc") + datastore("scal", "text/x-s4j-sife")
            + "</DevInf></Data></Item></Put>")


def sif_sync(session, sif_type, adds):
    """pkg 3 of `session`: one Sync of SIF Adds, base64 as Funambol sends them."""
    statuses, cmd_id = session._status_xml(1)
    sync_id = cmd_id
    cmds = []
    for luid, data in adds:
        cmd_id += 1
        cmds.append(f"<Add><CmdID>{cmd_id}</CmdID><Meta><Type xmlns='syncml:metinf'>{sif_type}</Type>"
                    "</Meta><Item><Source><LocURI>" + escape(luid) + "</LocURI></Source>"
                    "<Meta><Format xmlns='syncml:metinf'>b64</Format></Meta><Data>"
                    + base64.b64encode(data.encode()).decode() + "</Data></Item></Add>")
    body = (statuses + f"<Sync><CmdID>{sync_id}</CmdID><Target><LocURI>{session.datastore}</LocURI></Target>"
            f"<Source><LocURI>{session.local}</LocURI></Source>" + "".join(cmds) + "</Sync><Final/>")
    return session._continue_until_final(session._send(body))


def start(session, alert, last, next_anchor):
    """pkg 1 with the DevInf; returns pkg 2."""
    return session._continue_until_final(session._send(
        alert_cmd(1, alert, session.datastore, session.local, last, next_anchor) + devinf_put(2) + "<Final/>",
        basic_cred(session.user, session.password)))


class SifDevicesTest(IntegrationTest):

    def test_sif_device_and_syncevolution_share_contacts_and_events(self):
        server = self.make_server()
        server.add_user(USER, PASSWORD)
        server.start()

        # 1. The SIF device adds a contact and an event.
        card = RawSession(server.url, DEVICE, USER, PASSWORD, "contacts", "1", "scard")
        start(card, 201, None, "1")
        reply = sif_sync(card, "text/x-s4j-sifc", [("c-1", CONTACT)])
        codes = [int(s.findtext("Data")) for s in reply.statuses("Add")]
        self.assertEqual(codes, [201], reply.text())
        card.finish()
        cal = RawSession(server.url, DEVICE, USER, PASSWORD, "calendar", "2", "scal")
        start(cal, 201, None, "1")
        reply = sif_sync(cal, "text/x-s4j-sife", [("e-1", EVENT)])
        codes = [int(s.findtext("Data")) for s in reply.statuses("Add")]
        self.assertEqual(codes, [201], reply.text())
        cal.finish()

        # 2. SyncEvolution gets them as vCard 3.0 and iCalendar 2.0.
        evo = self.make_device(server, "evo", USER, PASSWORD, datastores={
            "contacts": ("text/vcard", "contacts"), "calendar": ("text/calendar", "calendar")})
        evo.sync("slow")
        cards = evo.items("contacts")
        self.assertEqual(len(cards), 1, cards)
        name, vcard = next(iter(cards.items()))
        for field in ("VERSION:3.0", "N:Weiß;Jürgen;;;", "ORG:ACME", "TITLE:Engineer",
                      "juergen@example.com", "+49 30 1111", "Hauptstraße 1", "Berlin",
                      "BDAY:19700501", "NOTE:Met at the fair"):
            self.assertIn(field, vcard)
        events = list(evo.items("calendar").values())
        self.assertEqual(len(events), 1, events)
        for field in ("VERSION:2.0", "SUMMARY:Team meeting", "LOCATION:Room 4", "DTSTART:20250106T090000Z",
                      "RRULE:", "FREQ=WEEKLY", "BYDAY=MO", "BEGIN:VALARM", "-PT15M"):
            self.assertIn(field, events[0])
        # Ten Mondays: libsynthesis spells COUNT=10 as the last one's UNTIL.
        self.assertRegex(events[0], r"COUNT=10|UNTIL=20250310")

        # 3. SyncEvolution changes the telephone number.
        evo.write_item("contacts", name, vcard.replace("+49 30 1111", "+49 30 2222"))
        evo.sync("two-way")

        # 4. The SIF device gets the change in SIF-C, base64.
        card2 = RawSession(server.url, DEVICE, USER, PASSWORD, "contacts", "3", "scard")
        card2.maps = []
        start(card2, 200, "1", "2")
        reply = card2.sync()
        replaces = [c for s in reply.commands("Sync") for c in s.findall("Replace")]
        self.assertEqual(len(replaces), 1, reply.text())
        self.assertEqual(replaces[0].findtext("Meta/Type"), "text/x-s4j-sifc")
        self.assertEqual(replaces[0].findtext("Meta/Format"), "b64")
        sif = base64.b64decode(replaces[0].findtext("Item/Data")).decode()
        for field in ("<BusinessTelephoneNumber>+49 30 2222</BusinessTelephoneNumber>",
                      "<LastName>Weiß</LastName>", "<FirstName>Jürgen</FirstName>",
                      "<Email1Address>juergen@example.com</Email1Address>",
                      "<BillingInformation>cost centre 7</BillingInformation>"):
            self.assertIn(field, sif)
        card2.finish()


if __name__ == "__main__":
    unittest.main()
