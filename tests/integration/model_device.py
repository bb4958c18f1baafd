"""A SyncML device that knows exactly what it holds and what it was told,
for tests that check the server against a model (issue #20: the crash loop).

`ModelDevice` keeps its contacts (LUID -> vCard text), the changes it has
not had acknowledged yet, its sync anchor and, for a session that broke off
after its Alert was answered, what it needs to resume it (SyncML 1.2 Alert
225) and the Maps it still owes.  It speaks the hand-made XML client's
messages (syncml_client), one message at a time through a `poster`, so a
test can kill the server under any of them:

    poster(url, body) -> Reply, or None when the answer never came
    (the server died); the device then sends the same bytes again or gives
    up, as `resend` says.

Like a real client it applies the server's changes as they arrive, keeps
its own changes until the server's Status for them, and takes the new
anchor only when the session's last package is answered.  A session it
gives up raises `Interrupted`; its next one resumes (225) when the first
one got as far as the server's Alert, and otherwise starts over with the
old anchor.  The server may answer either with a slow sync (201): the
device then sends all it holds, and a delete not yet acknowledged is undone
(the server sends the item back), as SyncML's slow sync has it.

`Model` is what the server was told and acknowledged: per contact (FN,
unique) its last acknowledged content, or None once its delete was; for a
conflict the server settled (207-209, 419), what the device holds when that
session ends.
"""

from xml.sax.saxutils import escape

import syncml_client as sc
import vcards

SLOW, TWO_WAY, RESUME = 201, 200, 225
# A device's own change acknowledged (DS 1.2 §"Status codes"): 211 is a
# delete of an item the server no longer had.
DONE = {200, 201, 210, 211, 418}
# A conflict the server settled (merged, device won, duplicated, server
# won): what the device holds of the item when the session ends is what was
# agreed.
SETTLED = {207, 208, 209, 419}


class Interrupted(Exception):
    """The device gave up the session: its answer never came."""


class Model:
    """What the server acknowledged, per contact FN: its content, or None
    (deleted)."""

    def __init__(self):
        self.acknowledged = {}
        self.devices = []

    def pending_elsewhere(self, fn, device):
        """Has another device a change of `fn` the server has not
        acknowledged?"""
        return any(fn in d.pending_fns() for d in self.devices
                   if d is not device)


class ModelDevice:

    def __init__(self, url, device_id, user, password, model, rng,
                 datastore="contacts", max_msg_size=6000):
        self.url = url
        self.device_id = device_id
        self.user = user
        self.password = password
        self.datastore = datastore
        self.local = "./contacts"
        self.model = model
        model.devices.append(self)
        self.rng = rng
        self.max_msg_size = max_msg_size
        self.items = {}          # luid -> vCard text
        self.changes = {}        # luid -> "add" | "replace" | "delete"
        self.deleted_fns = {}    # luid -> FN of a pending delete
        self.last_anchor = None  # None: never synced (slow sync)
        self.resume = None       # (last, next) of a sync to resume
        self.owed_maps = {}      # luid -> server id: Adds whose Map is owed
        self.settled = set()     # FNs of conflicts the server settled, until the session ends
        self._next_luid = 0
        self._anchor = 0
        self._session = 0
        self._msg_id = 0
        self.sent_adds = set()   # LUIDs whose Add went out: the server may hold them
        # What happened to which contact, for a failing test to tell.
        self.journal = []
        self.counts = {"completed": 0, "slow": 0, "resumed": 0,
                       "resent": 0, "given_up": 0, "overwritten": 0}

    # -- the user's edits ------------------------------------------------

    def pending_fns(self):
        """FNs of changes the server has not acknowledged yet, or settled
        as a conflict in a session not yet ended."""
        out = set(self.deleted_fns.values()) | self.settled
        for luid in self.changes:
            if luid in self.items:
                out.add(vcards.fn_of(self.items[luid]))
        return out

    def _editable(self):
        """LUIDs the user may change without racing another device: the
        server acknowledged the content this device holds (or the change is
        this device's own, still pending), and no other device has a
        change of it pending."""
        out = []
        for luid, text in sorted(self.items.items()):
            fn = vcards.fn_of(text)
            own = luid in self.changes
            if not own and self.model.acknowledged.get(fn) != text:
                continue
            if self.model.pending_elsewhere(fn, self):
                continue
            out.append(luid)
        return out

    def add(self, text):
        luid = self._new_luid()
        self.items[luid] = text
        self.changes[luid] = "add"

    def edit(self, luid, text):
        self.journal.append((vcards.fn_of(text), f"after session {self._session}: "
                             f"edited {luid}: {self._note_of(text)}"))
        self.items[luid] = text
        if self.changes.get(luid) != "add":
            self.changes[luid] = "replace"

    def delete(self, luid):
        fn = vcards.fn_of(self.items.pop(luid))
        self.journal.append((fn, f"after session {self._session}: deleted {luid}"))
        if self.changes.pop(luid, None) == "add" and luid not in self.sent_adds:
            return  # never left the device
        self.changes[luid] = "delete"
        self.deleted_fns[luid] = fn

    def random_edits(self, next_index, seed, least=0, most=6):
        """A few random adds, edits and deletes (new contacts are
        vcards.contact(next_index, seed) on); returns the next free
        contact index."""
        for _ in range(self.rng.randint(least, most)):
            editable = self._editable()
            roll = self.rng.random()
            if roll < 0.45 or not editable:
                self.add(vcards.contact(next_index, seed))
                next_index += 1
            elif roll < 0.8:
                luid = self.rng.choice(editable)
                self.edit(luid, vcards.replace_property(
                    self.items[luid], "NOTE",
                    f"NOTE:edited by {self.device_id} #{self.rng.randrange(10**9)}"))
            else:
                self.delete(self.rng.choice(editable))
        return next_index

    # -- one session -------------------------------------------------------

    def sync(self, poster, resend=lambda: True):
        """One session to its end; raises Interrupted when it is given up
        (`resend()` said no after an answer did not come)."""
        self._session += 1
        self._msg_id = 0
        self._url = self.url
        self._poster = poster
        self._resend = resend
        self._sent = {}  # luid -> (kind, text or FN) sent this session
        self._chunks = None  # ((command, id), data so far) of a large object
        if self.resume is not None:
            code, (last, nxt) = RESUME, self.resume
            self.counts["resumed"] += 1
        else:
            self._anchor += 1
            code, last, nxt = (TWO_WAY if self.last_anchor else SLOW,
                               self.last_anchor, str(self._anchor))
        reply = self._send(sc.alert_cmd(1, code, self.datastore, self.local,
                                        last, nxt) + "<Final/>",
                           sc.basic_cred(self.user, self.password))
        if reply.hdr_status() not in (200, 212):
            raise sc.ProtocolError("not let in: " + reply.text())
        reply = self._until_final(reply)
        alerts = reply.commands("Alert")
        if not alerts:
            raise sc.ProtocolError("no Alert in package 2: " + reply.text())
        sync_type = int(alerts[0].findtext("Data"))
        if sync_type not in (TWO_WAY, SLOW):
            raise sc.ProtocolError(f"sync type {sync_type}: " + reply.text())
        self.resume = (last, nxt)  # from here on a broken session resumes
        slow = sync_type == SLOW
        self.counts["slow"] += slow

        reply = self._send(self._statuses() + self._owed_map_xml() +
                           self._sync_xml(slow) + "<Final/>")
        self._take_item_statuses(reply)
        reply = self._until_final(reply)

        reply = self._send(self._statuses() + self._owed_map_xml() +
                           "<Final/>")
        reply = self._until_final(reply)
        for st in reply.statuses("Map"):
            if int(st.findtext("Data")) != 200:
                raise sc.ProtocolError("Map refused: " + reply.text())
        self.owed_maps.clear()
        held = {vcards.fn_of(t): t for t in self.items.values()}
        for fn in self.settled:
            self.model.acknowledged[fn] = held.get(fn)
        self.settled.clear()
        self.last_anchor = nxt
        self.resume = None
        self.counts["completed"] += 1

    # -- plumbing ----------------------------------------------------------

    def _new_luid(self):
        self._next_luid += 1
        return f"{self.device_id}-{self._next_luid}"

    def _send(self, body, cred=""):
        self._msg_id += 1
        message = sc.message(self.url, self.device_id,
                             f"{self.device_id}-{self._session}",
                             self._msg_id, body, cred, self.max_msg_size)
        while True:
            reply = self._poster(self._url, message)
            if reply is not None:
                break
            if not self._resend():
                self.counts["given_up"] += 1
                raise Interrupted(f"{self.device_id}: message {self._msg_id} "
                                  f"of session {self._session} given up")
            self.counts["resent"] += 1
        if reply.resp_uri:
            self._url = reply.resp_uri
        self._take_server_commands(reply)
        return reply

    def _until_final(self, reply):
        for _ in range(1000):
            if reply.final:
                return reply
            reply = self._send(
                self._statuses() +
                f"<Alert><CmdID>{self._cmd_id()}</CmdID><Data>222</Data>"
                f"<Item><Target><LocURI>{escape(self.url)}</LocURI></Target>"
                f"<Source><LocURI>{escape(self.device_id)}</LocURI></Source>"
                "</Item></Alert><Final/>")
            self._take_item_statuses(reply)
        raise sc.ProtocolError("the server never sent Final")

    def _cmd_id(self):
        self._next_cmd += 1
        return self._next_cmd

    def _take_server_commands(self, reply):
        """Apply what the server sent, as a device does at once, and queue
        our Status for each command."""
        self._owed = [("SyncHdr", "0", 200, reply.source_uri, self.device_id)]
        self._msg_ref = reply.msg_id
        for cmd in reply.commands("Alert"):
            self._owed.append(("Alert", cmd.findtext("CmdID"), 200, None, None))
        for cmd in reply.commands("Get"):
            self._owed.append(("Get", cmd.findtext("CmdID"), 200, None, None))
        for sync in reply.commands("Sync"):
            self._owed.append(("Sync", sync.findtext("CmdID"), 200, None, None))
            for cmd in sync:
                if cmd.tag in ("Add", "Replace", "Delete"):
                    for item in cmd.findall("Item"):
                        self._owed.append(self._apply(cmd, item))

    def _note(self, event, text_or_fn):
        fn = text_or_fn if "\n" not in text_or_fn else vcards.fn_of(text_or_fn)
        self.journal.append((fn, f"session {self._session} msg {self._msg_id}: {event}"))

    def history(self, fn):
        """The journal's lines about contact `fn`."""
        return [f"{self.device_id} {line}" for f, line in self.journal if f == fn]

    def _apply(self, cmd, item):
        ref = cmd.findtext("CmdID")
        key = (cmd.tag, item.findtext("Source/LocURI") or item.findtext("Target/LocURI"))
        data = item.findtext("Data") or ""
        if self._chunks is not None and self._chunks[0] == key:
            data = self._chunks[1] + data
            self._chunks = None
        if item.find("MoreData") is not None:
            # A large object's chunk (RepPro "Large objects"): kept until
            # the last one comes, in a later message.
            self._chunks = (key, data)
            return (cmd.tag, ref, 213, item.findtext("Target/LocURI"),
                    item.findtext("Source/LocURI"))
        if cmd.tag == "Add":
            server_id = item.findtext("Source/LocURI")
            luid = self._new_luid()
            self.items[luid] = data
            self.owed_maps[luid] = server_id
            self._note(f"server Add {server_id} as {luid}", self.items[luid])
            return ("Add", ref, 201, None, server_id)
        luid = item.findtext("Target/LocURI")
        if luid not in self.items:
            # Deleted here meanwhile, or never here.
            code = 211 if cmd.tag == "Delete" else 404
            return (cmd.tag, ref, code, luid, None)
        # The other device never touches what this one has pending (see
        # _editable): counted, for the test to report.
        if self.changes.pop(luid, None) is not None:
            self.counts["overwritten"] += 1
        if cmd.tag == "Delete":
            self._note(f"server Delete {luid}", self.items.pop(luid))
            self.owed_maps.pop(luid, None)
            return ("Delete", ref, 200, luid, None)
        self.items[luid] = data
        self._note(f"server Replace {luid}: {self._note_of(self.items[luid])}", self.items[luid])
        return ("Replace", ref, 200, luid, None)

    @staticmethod
    def _note_of(text):
        for line in vcards.unfold(text):
            if line.startswith("NOTE:"):
                return line
        return "no NOTE"

    def _statuses(self):
        self._next_cmd = 0
        out = []
        for cmd, ref, code, target, source in self._owed:
            t = f"<TargetRef>{escape(target)}</TargetRef>" if target else ""
            s = f"<SourceRef>{escape(source)}</SourceRef>" if source else ""
            out.append(f"<Status><CmdID>{self._cmd_id()}</CmdID>"
                       f"<MsgRef>{self._msg_ref}</MsgRef><CmdRef>{ref}</CmdRef>"
                       f"<Cmd>{cmd}</Cmd>{t}{s}<Data>{code}</Data></Status>")
        self._owed = []
        return "".join(out)

    def _owed_map_xml(self):
        """The Maps of the server's Adds this device stored and the server
        has not acknowledged (pkg 5, and first thing after a resume, so the
        server knows before it plans pkg 4 what the device holds)."""
        if not self.owed_maps:
            return ""
        items = "".join(
            f"<MapItem><Target><LocURI>{escape(sid)}</LocURI></Target>"
            f"<Source><LocURI>{escape(luid)}</LocURI></Source></MapItem>"
            for luid, sid in sorted(self.owed_maps.items()))
        return (f"<Map><CmdID>{self._cmd_id()}</CmdID>"
                f"<Target><LocURI>{self.datastore}</LocURI></Target>"
                f"<Source><LocURI>{self.local}</LocURI></Source>{items}</Map>")

    def _sync_xml(self, slow):
        adds, replaces, deletes = [], [], []
        if slow:
            # Everything as it is; a delete not yet acknowledged cannot be
            # said in a slow sync: the item comes back.
            for luid in [l for l, c in self.changes.items() if c == "delete"]:
                del self.changes[luid]
                del self.deleted_fns[luid]
            # Only the device's own changes are acknowledged as such; the
            # rest is matched with what the server holds.
            for luid, text in sorted(self.items.items()):
                replaces.append((luid, text))
                if luid in self.changes:
                    self._sent[luid] = ("replace", text)
        else:
            for luid, change in sorted(self.changes.items()):
                if change == "delete":
                    deletes.append(luid)
                    self._sent[luid] = ("delete", self.deleted_fns[luid])
                    continue
                text = self.items[luid]
                (adds if change == "add" else replaces).append((luid, text))
                self._sent[luid] = (change, text)
        self.sent_adds.update(luid for luid, _ in adds)
        for luid, text in adds + replaces:
            self._note(f"sent {'slow ' if slow else ''}{luid}: {self._note_of(text)}", text)
        for luid in deletes:
            self._note(f"sent delete {luid}", self.deleted_fns[luid])
        return sc.sync_cmd(self._cmd_id(), self.datastore, adds, replaces,
                           deletes, self.local)

    def _take_item_statuses(self, reply):
        """The server's Status for our changes: acknowledged ones leave the
        change list and enter the model."""
        for st in reply.statuses():
            if st.findtext("Cmd") not in ("Add", "Replace", "Delete"):
                continue
            luid = st.findtext("SourceRef") or st.findtext("TargetRef")
            code = int(st.findtext("Data"))
            sent = self._sent.pop(luid, None)
            if sent is None:
                continue
            kind, what = sent
            self._note(f"{kind} {luid} answered {code}" +
                       ("" if kind == "delete" else ": " + self._note_of(what)), what)
            if code in SETTLED:
                self.settled.add(what if kind == "delete" else vcards.fn_of(what))
                self.changes.pop(luid, None)
                self.deleted_fns.pop(luid, None)
                continue
            if code not in DONE:
                raise sc.ProtocolError(f"{kind} of {luid} refused with {code}")
            if kind == "delete":
                self.model.acknowledged[what] = None
                self.changes.pop(luid, None)
                self.deleted_fns.pop(luid, None)
                continue
            self.model.acknowledged[vcards.fn_of(what)] = what
            # Edited again since it was sent: that edit is still to go.
            if self.items.get(luid) == what:
                self.changes.pop(luid, None)
