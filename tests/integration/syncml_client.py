"""A minimal hand-made SyncML 1.2 (XML) client, for tests that need to see
or bend the protocol: read the RespURI, replay a session id, send garbage.

`RawSession` runs one session against one datastore, package by package:

    s = RawSession(server.url, "dev-1", "alice", "pw")
    s.start(alert=201)                    # pkg 1 -> pkg 2
    s.sync(adds=[("1", vcard_text)])      # pkg 3 -> pkg 4 (+ 222 rounds)
    s.finish()                            # pkg 5 (statuses, Map) -> pkg 6
    s.received                            # {server id: item data}

`slow_sync(...)` does all three.  Replies are parsed into `Reply`, with XML
namespaces stripped so paths read like the spec (SyncBody/Status/Data).
"""

import base64
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from conflux_server import http_request

SYNCML_TYPE = "application/vnd.syncml+xml"


class ProtocolError(AssertionError):
    """The server answered something the test did not expect."""


def basic_cred(user, password):
    data = base64.b64encode(f"{user}:{password}".encode()).decode()
    return ("<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format>"
            "<Type xmlns='syncml:metinf'>syncml:auth-basic</Type></Meta>"
            f"<Data>{data}</Data></Cred>")


def md5_cred(user, password, nonce=b""):
    import hashlib

    def b64md5(b):
        return base64.b64encode(hashlib.md5(b).digest())
    data = b64md5(b64md5(f"{user}:{password}".encode()) + b":" + nonce)
    return ("<Cred><Meta><Format xmlns='syncml:metinf'>b64</Format>"
            "<Type xmlns='syncml:metinf'>syncml:auth-md5</Type></Meta>"
            f"<Data>{data.decode()}</Data></Cred>")


def message(target_uri, device_id, session_id, msg_id, body, cred="",
            max_msg_size=1_000_000, loc_name=None, version="1.2"):
    """One SyncML XML message (str), 1.2 unless `version` says "1.0" or
    "1.1". loc_name is the user name in the header's Source, which
    syncml:auth-md5 needs."""
    name_xml = f"<LocName>{escape(loc_name)}</LocName>" if loc_name else ""
    return ('<?xml version="1.0" encoding="UTF-8"?>'
            f'<SyncML xmlns="SYNCML:SYNCML{version}"><SyncHdr>'
            f"<VerDTD>{version}</VerDTD><VerProto>SyncML/{version}</VerProto>"
            f"<SessionID>{session_id}</SessionID><MsgID>{msg_id}</MsgID>"
            f"<Target><LocURI>{escape(target_uri)}</LocURI></Target>"
            f"<Source><LocURI>{escape(device_id)}</LocURI>{name_xml}</Source>"
            f"{cred}"
            f"<Meta><MaxMsgSize xmlns='syncml:metinf'>{max_msg_size}"
            "</MaxMsgSize></Meta>"
            f"</SyncHdr><SyncBody>{body}</SyncBody></SyncML>")


def alert_cmd(cmd_id, code, datastore, local="./contacts", last=None,
              next_anchor="1"):
    last_xml = f"<Last>{last}</Last>" if last is not None else ""
    return (f"<Alert><CmdID>{cmd_id}</CmdID><Data>{code}</Data><Item>"
            f"<Target><LocURI>{datastore}</LocURI></Target>"
            f"<Source><LocURI>{local}</LocURI></Source>"
            f"<Meta><Anchor xmlns='syncml:metinf'>{last_xml}"
            f"<Next>{next_anchor}</Next></Anchor></Meta></Item></Alert>")


def sync_cmd(cmd_id, datastore, adds=(), replaces=(), deletes=(),
             local="./contacts", item_type="text/vcard"):
    """One Sync command (CmdIDs from cmd_id on) carrying adds and replaces
    ([(luid, item text)], each of Meta Type item_type) and deletes
    ([luid])."""
    cmds = []
    sync_id = cmd_id
    cmd_id += 1
    for tag, items in (("Add", adds), ("Replace", replaces)):
        for luid, data in items:
            cmds.append(
                f"<{tag}><CmdID>{cmd_id}</CmdID><Meta><Type "
                f"xmlns='syncml:metinf'>{item_type}</Type></Meta><Item>"
                f"<Source><LocURI>{escape(luid)}</LocURI></Source>"
                f"<Data><![CDATA[{data}]]></Data></Item></{tag}>")
            cmd_id += 1
    for luid in deletes:
        cmds.append(f"<Delete><CmdID>{cmd_id}</CmdID><Item><Source>"
                    f"<LocURI>{escape(luid)}</LocURI></Source></Item>"
                    "</Delete>")
        cmd_id += 1
    n = len(adds) + len(replaces) + len(deletes)
    return (f"<Sync><CmdID>{sync_id}</CmdID>"
            f"<Target><LocURI>{datastore}</LocURI></Target>"
            f"<Source><LocURI>{local}</LocURI></Source>"
            f"<NumberOfChanges>{n}</NumberOfChanges>"
            + "".join(cmds) + "</Sync>")


def devinf_put(cmd_id, device_id, fields):
    """A Put of the device's DevInf 1.2 (fields: element name -> text, e.g.
    {"Man": ..., "Mod": ..., "OEM": ...}), as a client sends it in pkg 1."""
    elems = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    return (f"<Put><CmdID>{cmd_id}</CmdID><Meta><Type xmlns='syncml:metinf'>"
            "application/vnd.syncml-devinf+xml</Type></Meta><Item><Source>"
            "<LocURI>./devinf12</LocURI></Source><Data>"
            "<DevInf xmlns='syncml:devinf'><VerDTD>1.2</VerDTD>"
            f"{elems}<DevID>{escape(device_id)}</DevID></DevInf>"
            "</Data></Item></Put>")


def pkg1(url, device_id, user, password, datastore="contacts", alert=201,
         session_id="1"):
    """The first message of a session: basic credentials (if user is not
    None), one Alert, Final."""
    cred = basic_cred(user, password) if user is not None else ""
    return message(url, device_id, session_id, 1,
                   alert_cmd(1, alert, datastore) + "<Final/>", cred)


def _strip_ns(elem):
    for e in elem.iter():
        if isinstance(e.tag, str) and "}" in e.tag:
            e.tag = e.tag.split("}", 1)[1]
    return elem


class Reply:
    """A parsed SyncML reply."""

    def __init__(self, status, headers, body):
        self.http_status = status
        self.headers = headers
        self.raw = body
        self.content_type = headers.get("Content-Type", "")
        try:
            self.root = _strip_ns(ET.fromstring(body))
        except ET.ParseError as e:
            raise ProtocolError(f"HTTP {status}: reply is not XML ({e}): "
                                f"{body[:300]!r}") from None
        if self.root.tag != "SyncML":
            raise ProtocolError(f"not a SyncML reply: {body[:300]!r}")
        hdr = self.root.find("SyncHdr")
        self.session_id = hdr.findtext("SessionID")
        self.msg_id = hdr.findtext("MsgID")
        self.resp_uri = hdr.findtext("RespURI")
        self.source_uri = hdr.findtext("Source/LocURI")
        self.body = self.root.find("SyncBody")
        self.final = self.body.find("Final") is not None

    def statuses(self, cmd=None):
        return [s for s in self.body.findall("Status")
                if cmd is None or s.findtext("Cmd") == cmd]

    def hdr_status(self):
        """The Data of the Status answering our SyncHdr, as int."""
        found = self.statuses("SyncHdr")
        if not found:
            raise ProtocolError("no SyncHdr status: " + self.text())
        return int(found[0].findtext("Data"))

    def commands(self, tag):
        return self.body.findall(tag)

    def text(self):
        return self.raw.decode(errors="replace")


def post(url, body, content_type=SYNCML_TYPE, timeout=60):
    """POST body (str or bytes); (status, headers, body bytes)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return http_request(url, "POST", body, {"Content-Type": content_type},
                        timeout=timeout)


def post_syncml(url, body, timeout=60):
    """POST a SyncML message and require HTTP 200 with a SyncML reply."""
    status, headers, raw = post(url, body, timeout=timeout)
    if status != 200:
        raise ProtocolError(f"HTTP {status} from {url}: {raw[:300]!r}")
    return Reply(status, headers, raw)


class RawSession:
    """One hand-driven sync session of one device on one datastore."""

    def __init__(self, url, device_id, user, password, datastore="contacts",
                 session_id="1", local="./contacts", devinf=None,
                 item_type="text/vcard"):
        self.url = url
        self.item_type = item_type  # the Meta Type of the items we send
        # DevInf fields (see devinf_put) sent with pkg 1; None: no DevInf.
        self.devinf = devinf
        self.device_id = device_id
        self.user = user
        self.password = password
        self.datastore = datastore
        self.local = local
        self.session_id = session_id
        self.msg_id = 0
        self.next_url = url
        self.pending = []      # our Status commands for the last reply
        self.received = {}     # server id -> item data (Add/Replace)
        self.deleted = []      # what the server deleted: our id (its Target), else its server id
        self.maps = []         # (server id, our luid) still to map
        self.item_statuses = []  # (cmd, our luid or server ref, code)
        self.last_reply = None
        self._luid = 1000
        self.max_msg_size = 1_000_000
        # answer(tag, data) -> status for a server Add/Replace; None: 201/200.
        # An item answered with an error is not kept.
        self.answer = None

    # -- plumbing --------------------------------------------------------

    def next_message(self, body, cred=""):
        """The next message of this session around body (str); it counts
        as sent (MsgID advances)."""
        self.msg_id += 1
        return message(self.url, self.device_id, self.session_id,
                       self.msg_id, body, cred, self.max_msg_size)

    def _send(self, body, cred=""):
        reply = post_syncml(self.next_url, self.next_message(body, cred))
        if reply.resp_uri:
            self.next_url = reply.resp_uri
        self.last_reply = reply
        self._answer(reply)
        return reply

    def _answer(self, reply):
        """Collect what the server sent (items, statuses) and queue the
        Status commands we owe it."""
        msg_ref = reply.msg_id
        self.pending = [("SyncHdr", "0", 200, reply.source_uri,
                         self.device_id)]
        for st in reply.statuses():
            cmd = st.findtext("Cmd")
            if cmd in ("Add", "Replace", "Delete"):
                self.item_statuses.append(
                    (cmd, st.findtext("SourceRef") or st.findtext("TargetRef"),
                     int(st.findtext("Data"))))
        for alert in reply.commands("Alert"):
            self.pending.append(("Alert", alert.findtext("CmdID"), 200,
                                 None, None))
        for sync in reply.commands("Sync"):
            self.pending.append(("Sync", sync.findtext("CmdID"), 200, None,
                                 None))
            for cmd in list(sync):
                if cmd.tag not in ("Add", "Replace", "Delete"):
                    continue
                for item in cmd.findall("Item"):
                    sid = item.findtext("Source/LocURI")
                    data = item.findtext("Data") or ""
                    refused = (self.answer(cmd.tag, data)
                               if self.answer and cmd.tag != "Delete"
                               else None)
                    if cmd.tag == "Delete":
                        self.deleted.append(item.findtext("Target/LocURI") or sid)
                        code = 200
                    elif refused is not None:
                        code = refused
                    else:
                        self.received[sid] = item.findtext("Data") or ""
                        code = 201 if cmd.tag == "Add" else 200
                        if cmd.tag == "Add":
                            self._luid += 1
                            self.maps.append((sid, str(self._luid)))
                    self.pending.append((cmd.tag, cmd.findtext("CmdID"),
                                         code, None, sid))
        self._msg_ref = msg_ref

    def _status_xml(self, first_cmd_id):
        out, cmd_id = [], first_cmd_id
        for cmd, ref, code, target, source in self.pending:
            t = f"<TargetRef>{escape(target)}</TargetRef>" if target else ""
            s = f"<SourceRef>{escape(source)}</SourceRef>" if source else ""
            out.append(f"<Status><CmdID>{cmd_id}</CmdID>"
                       f"<MsgRef>{self._msg_ref}</MsgRef><CmdRef>{ref}</CmdRef>"
                       f"<Cmd>{cmd}</Cmd>{t}{s}<Data>{code}</Data></Status>")
            cmd_id += 1
        self.pending = []
        return "".join(out), cmd_id

    def _continue_until_final(self, reply):
        """While the server's package is split over messages (no Final),
        ask for the next one with Alert 222."""
        for _ in range(1000):
            if reply.final:
                return reply
            statuses, cmd_id = self._status_xml(1)
            reply = self._send(statuses +
                               f"<Alert><CmdID>{cmd_id}</CmdID><Data>222</Data>"
                               f"<Item><Target><LocURI>{self.url}</LocURI>"
                               f"</Target><Source><LocURI>{self.device_id}"
                               "</LocURI></Source></Item></Alert><Final/>")
        raise ProtocolError("server never sent Final")

    # -- packages ----------------------------------------------------------

    def start(self, alert=201, cred=None, last=None, next_anchor="1",
              expect=200):
        """pkg 1 -> pkg 2.  Requires SyncHdr status 200/212 and the Alert
        answered with `expect`; returns the reply."""
        if cred is None:
            cred = basic_cred(self.user, self.password) \
                if self.user is not None else ""
        put = devinf_put(2, self.device_id, self.devinf) if self.devinf else ""
        reply = self._send(alert_cmd(1, alert, self.datastore, self.local,
                                     last, next_anchor) + put + "<Final/>",
                           cred)
        reply = self._continue_until_final(reply)
        hdr = reply.hdr_status()
        if hdr not in (200, 212):
            raise ProtocolError(f"SyncHdr status {hdr}: {reply.text()}")
        alerts = reply.statuses("Alert")
        if not alerts or int(alerts[0].findtext("Data")) != expect:
            raise ProtocolError("Alert not answered with "
                                f"{expect}: " + reply.text())
        return reply

    def server_alert_code(self, reply):
        """The sync type of the server's Alert in pkg 2 (int)."""
        return int(reply.commands("Alert")[0].findtext("Data"))

    def suspend(self):
        """Our statuses for the last reply and Alert 224 (SyncML 1.2
        suspend), Final; returns the reply."""
        statuses, cmd_id = self._status_xml(1)
        return self._send(statuses + f"<Alert><CmdID>{cmd_id}</CmdID>"
                          "<Data>224</Data></Alert><Final/>")

    def sync(self, adds=(), replaces=(), deletes=()):
        """pkg 3 -> pkg 4: our changes (adds/replaces: [(luid, vCard)],
        deletes: [luid]) in one Sync; returns the last reply (Final)."""
        reply = self._send(self.sync_body(adds, replaces, deletes))
        return self._continue_until_final(reply)

    def sync_body(self, adds=(), replaces=(), deletes=()):
        """The SyncBody content of pkg 3 (our statuses, one Sync, Final);
        see sync()."""
        statuses, cmd_id = self._status_xml(1)
        return statuses + sync_cmd(cmd_id, self.datastore, adds, replaces,
                                   deletes, self.local,
                                   self.item_type) + "<Final/>"

    def finish(self):
        """pkg 5 -> pkg 6: our statuses for the server's changes and the
        Map of the items it added."""
        statuses, cmd_id = self._status_xml(1)
        body = statuses
        if self.maps:
            body += (f"<Map><CmdID>{cmd_id}</CmdID>"
                     f"<Target><LocURI>{self.datastore}</LocURI></Target>"
                     f"<Source><LocURI>{self.local}</LocURI></Source>")
            for sid, luid in self.maps:
                body += (f"<MapItem><Target><LocURI>{escape(sid)}</LocURI>"
                         f"</Target><Source><LocURI>{luid}</LocURI></Source>"
                         "</MapItem>")
            body += "</Map>"
            self.maps = []
        reply = self._send(body + "<Final/>")
        return self._continue_until_final(reply)


def slow_sync(url, device_id, user, password, adds=(), datastore="contacts"):
    """A complete slow sync session; returns the RawSession (see
    .received for what the server sent, .item_statuses for its answers to
    our adds)."""
    s = RawSession(url, device_id, user, password, datastore)
    s.start(alert=201)
    s.sync(adds=adds)
    s.finish()
    return s


def find_resp_uri(text):
    m = re.search(r"<RespURI>([^<]*)</RespURI>", text)
    return m.group(1) if m else None
