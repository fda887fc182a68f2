"""Minimal pure-Python SMPP v3.4 codec and blocking peers for tests.

Deliberately independent of the C codec in smpp/ so that integration tests
check the daemon against a second implementation. Standard library only.

Encoding:
    pdu_encode(command_id, seq, body=b"", status=0) -> bytes
    bind_body(), submit_sm_body(), deliver_sm_body(), data_sm_body(),
    submit_multi_body(), submit_multi_resp_body(), resp_body(message_id),
    tlvs_encode([(tag, bytes), ...])
Decoding:
    pdu_decode(bytes) -> Pdu   (fields parsed by command_id into pdu.f)
Peers:
    Conn      a connected socket that reads/writes PDUs with timeouts,
              answers enquire_link by itself and collects deliver_sm.
    Client    Conn + connect/bind/submit/... for playing an ESME.
    Listener  accept() Conns on 127.0.0.1 for playing an SMSC or ESME peer.

Every blocking call takes a timeout (seconds) and raises Timeout or Closed
instead of hanging.
"""

import select
import socket
import struct
import time

# --- constants -------------------------------------------------------------

GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_TRANSMITTER = 0x00000002
QUERY_SM = 0x00000003
SUBMIT_SM = 0x00000004
DELIVER_SM = 0x00000005
UNBIND = 0x00000006
REPLACE_SM = 0x00000007
CANCEL_SM = 0x00000008
BIND_TRANSCEIVER = 0x00000009
OUTBIND = 0x0000000B
ENQUIRE_LINK = 0x00000015
SUBMIT_MULTI = 0x00000021
ALERT_NOTIFICATION = 0x00000102
DATA_SM = 0x00000103
RESP = 0x80000000

BIND_RECEIVER_RESP = BIND_RECEIVER | RESP
BIND_TRANSMITTER_RESP = BIND_TRANSMITTER | RESP
BIND_TRANSCEIVER_RESP = BIND_TRANSCEIVER | RESP
SUBMIT_SM_RESP = SUBMIT_SM | RESP
DELIVER_SM_RESP = DELIVER_SM | RESP
UNBIND_RESP = UNBIND | RESP
ENQUIRE_LINK_RESP = ENQUIRE_LINK | RESP
SUBMIT_MULTI_RESP = SUBMIT_MULTI | RESP
DATA_SM_RESP = DATA_SM | RESP

CMD_NAMES = {
    GENERIC_NACK: "generic_nack",
    BIND_RECEIVER: "bind_receiver",
    BIND_RECEIVER_RESP: "bind_receiver_resp",
    BIND_TRANSMITTER: "bind_transmitter",
    BIND_TRANSMITTER_RESP: "bind_transmitter_resp",
    QUERY_SM: "query_sm",
    QUERY_SM | RESP: "query_sm_resp",
    SUBMIT_SM: "submit_sm",
    SUBMIT_SM_RESP: "submit_sm_resp",
    DELIVER_SM: "deliver_sm",
    DELIVER_SM_RESP: "deliver_sm_resp",
    UNBIND: "unbind",
    UNBIND_RESP: "unbind_resp",
    REPLACE_SM: "replace_sm",
    REPLACE_SM | RESP: "replace_sm_resp",
    CANCEL_SM: "cancel_sm",
    CANCEL_SM | RESP: "cancel_sm_resp",
    BIND_TRANSCEIVER: "bind_transceiver",
    BIND_TRANSCEIVER_RESP: "bind_transceiver_resp",
    OUTBIND: "outbind",
    ENQUIRE_LINK: "enquire_link",
    ENQUIRE_LINK_RESP: "enquire_link_resp",
    SUBMIT_MULTI: "submit_multi",
    SUBMIT_MULTI_RESP: "submit_multi_resp",
    ALERT_NOTIFICATION: "alert_notification",
    DATA_SM: "data_sm",
    DATA_SM_RESP: "data_sm_resp",
}

BIND_KINDS = {
    "tx": BIND_TRANSMITTER, "transmitter": BIND_TRANSMITTER,
    "rx": BIND_RECEIVER, "receiver": BIND_RECEIVER,
    "trx": BIND_TRANSCEIVER, "transceiver": BIND_TRANSCEIVER,
}

ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RINVSERTYP = 0x15
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RINVOPTPARSTREAM = 0xC0
ESME_ROPTPARNOTALLWD = 0xC1
ESME_RINVPARLEN = 0xC2
OPTED_OUT = 0x401

TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MESSAGE_STATE = 0x0427
TLV_NETWORK_ERROR_CODE = 0x0423

ESM_DLR = 0x04
ESM_UDHI = 0x40

HEADER = struct.Struct(">IIII")


class Error(Exception):
    """Base class for this module's errors."""


class Timeout(Error):
    """Nothing arrived in time."""


class Closed(Error):
    """The peer closed the connection."""


class DecodeError(Error):
    """A PDU body did not parse."""


def cmd_name(command_id):
    return CMD_NAMES.get(command_id, "0x%08x" % command_id)


# --- GSM 03.38 and text ----------------------------------------------------

GSM7_BASIC = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r"
    "\u00c5\u00e5\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398"
    "\u039e\x1b\u00c6\u00e6\u00df\u00c9 !\"#\u00a4%&'()*+,-./0123456789:;"
    "<=>?\u00a1ABCDEFGHIJKLMNOPQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmnopqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)
GSM7_EXT = {
    0x0A: "\x0c", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "\u20ac",
}
_GSM7_REV = {c: i for i, c in enumerate(GSM7_BASIC) if i != 0x1B}
_GSM7_EXT_REV = {c: i for i, c in GSM7_EXT.items()}


def gsm7_encode(text):
    """str -> unpacked GSM 03.38 septets (one per byte). ValueError if a
    character has no GSM form."""
    out = bytearray()
    for ch in text:
        if ch in _GSM7_REV:
            out.append(_GSM7_REV[ch])
        elif ch in _GSM7_EXT_REV:
            out += bytes((0x1B, _GSM7_EXT_REV[ch]))
        else:
            raise ValueError("no GSM 03.38 form for %r" % ch)
    return bytes(out)


def gsm7_decode(data):
    """Unpacked septets -> str."""
    out = []
    esc = False
    for b in data:
        b &= 0x7F
        if esc:
            out.append(GSM7_EXT.get(b, GSM7_BASIC[b]))
            esc = False
        elif b == 0x1B:
            esc = True
        else:
            out.append(GSM7_BASIC[b])
    return "".join(out)


def gsm7_pack(septets, fill_bits=0):
    """Pack septets 7 bits each (LSB first), after fill_bits zero bits
    (used after a UDH)."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def gsm7_unpack(data, count=None, fill_bits=0):
    """Unpack septets; count defaults to all whole septets."""
    total = len(data) * 8 - fill_bits
    if count is None:
        count = total // 7
    val = int.from_bytes(data, "little") >> fill_bits
    return bytes((val >> (7 * i)) & 0x7F for i in range(count))


def text_encode(text, dcs=0):
    """Encode str for data_coding dcs: 0 GSM 03.38 unpacked, 1 ASCII,
    3 Latin-1, 8 UCS-2 (UTF-16BE). bytes pass through."""
    if isinstance(text, (bytes, bytearray)):
        return bytes(text)
    if dcs == 0:
        return gsm7_encode(text)
    if dcs == 1:
        return text.encode("ascii")
    if dcs == 3:
        return text.encode("latin-1")
    if dcs == 8:
        return text.encode("utf-16-be")
    return text.encode("latin-1")


def text_decode(data, dcs=0):
    if dcs == 0:
        return gsm7_decode(data)
    if dcs == 8:
        return data.decode("utf-16-be", "replace")
    if dcs == 1:
        return data.decode("ascii", "replace")
    return data.decode("latin-1")


def udh_concat(ref, total, seq, ref16=False):
    """UDH for part seq of total (8-bit or 16-bit reference)."""
    if ref16:
        return bytes((6, 0x08, 4, (ref >> 8) & 0xFF, ref & 0xFF, total, seq))
    return bytes((5, 0x00, 3, ref & 0xFF, total, seq))


# --- receipts --------------------------------------------------------------

def receipt_text(msg_id, stat="DELIVRD", err="000", text="", sub=1,
                 dlvrd=1, submit_date="2401011200", done_date="2401011201"):
    """The SMPP v3.4 Appendix B receipt text (str)."""
    return ("id:%s sub:%03d dlvrd:%03d submit date:%s done date:%s "
            "stat:%s err:%s text:%s" % (msg_id, sub, dlvrd, submit_date,
                                        done_date, stat, err, text))


def receipt_parse(text):
    """Parse an Appendix B receipt text into a dict (keys: id, sub, dlvrd,
    submit date, done date, stat, err, text). Lenient, case-insensitive."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("latin-1")
    out = {}
    low = text.lower()
    keys = ["id", "sub", "dlvrd", "submit date", "done date", "stat", "err",
            "text"]
    pos = []
    for k in keys:
        i = low.find(k + ":")
        while i > 0 and low[i - 1] not in " \t":
            i = low.find(k + ":", i + 1)
        if i >= 0:
            pos.append((i, k))
    pos.sort()
    for n, (i, k) in enumerate(pos):
        start = i + len(k) + 1
        end = pos[n + 1][0] if n + 1 < len(pos) else len(text)
        if k == "text":
            end = len(text)
        out[k] = text[start:end].strip() if k != "text" else text[start:end]
    return out


# --- encoding --------------------------------------------------------------

def cstr(s, maxlen=None):
    """C-Octet string: bytes + NUL. maxlen (with NUL) only checked if given."""
    if isinstance(s, str):
        s = s.encode("latin-1")
    if maxlen is not None and len(s) + 1 > maxlen:
        raise ValueError("C-Octet string too long: %r" % s)
    return bytes(s) + b"\0"


def tlvs_encode(tlvs):
    """[(tag, bytes|int-of-given-size)] -> bytes. An int value is encoded
    as 1 octet; use bytes for anything else."""
    out = bytearray()
    for tag, val in tlvs or ():
        if isinstance(val, int):
            val = bytes((val,))
        elif isinstance(val, str):
            val = val.encode("latin-1")
        out += struct.pack(">HH", tag, len(val)) + val
    return bytes(out)


def pdu_encode(command_id, seq, body=b"", status=0):
    return HEADER.pack(16 + len(body), command_id, status, seq) + body


def bind_body(system_id, password, system_type="", interface_version=0x34,
              ton=0, npi=0, address_range=""):
    return (cstr(system_id) + cstr(password) + cstr(system_type) +
            bytes((interface_version, ton, npi)) + cstr(address_range))


def _sm_body(service_type, src, dst, esm_class, protocol_id, priority,
             schedule, validity, registered_delivery, replace, dcs, msg_id,
             short_message, tlvs, src_ton, src_npi, dst_ton, dst_npi):
    if len(short_message) > 254:
        raise ValueError("short_message over 254 octets; use message_payload")
    return (cstr(service_type) + bytes((src_ton, src_npi)) + cstr(src) +
            bytes((dst_ton, dst_npi)) + cstr(dst) +
            bytes((esm_class, protocol_id, priority)) + cstr(schedule) +
            cstr(validity) + bytes((registered_delivery, replace, dcs,
                                    msg_id, len(short_message))) +
            short_message + tlvs_encode(tlvs))


def submit_sm_body(src, dst, short_message=b"", dcs=0, service_type="",
                   esm_class=0, registered_delivery=0, tlvs=None,
                   src_ton=1, src_npi=1, dst_ton=1, dst_npi=1,
                   protocol_id=0, priority=0, schedule="", validity="",
                   replace=0, sm_default_msg_id=0):
    """short_message may be str (encoded per dcs) or bytes."""
    return _sm_body(service_type, src, dst, esm_class, protocol_id, priority,
                    schedule, validity, registered_delivery, replace, dcs,
                    sm_default_msg_id, text_encode(short_message, dcs), tlvs,
                    src_ton, src_npi, dst_ton, dst_npi)


def deliver_sm_body(src, dst, short_message=b"", dcs=0, service_type="",
                    esm_class=0, registered_delivery=0, tlvs=None,
                    src_ton=1, src_npi=1, dst_ton=1, dst_npi=1):
    """Same layout as submit_sm; schedule/validity must be empty (4.6.1)."""
    return _sm_body(service_type, src, dst, esm_class, 0, 0, "", "",
                    registered_delivery, 0, dcs, 0,
                    text_encode(short_message, dcs), tlvs, src_ton, src_npi,
                    dst_ton, dst_npi)


def data_sm_body(src, dst, dcs=0, service_type="", esm_class=0,
                 registered_delivery=0, tlvs=None, src_ton=1, src_npi=1,
                 dst_ton=1, dst_npi=1):
    """data_sm (4.7.1): text travels in TLVs (message_payload)."""
    return (cstr(service_type) + bytes((src_ton, src_npi)) + cstr(src) +
            bytes((dst_ton, dst_npi)) + cstr(dst) +
            bytes((esm_class, registered_delivery, dcs)) + tlvs_encode(tlvs))


def submit_multi_body(src, dests, short_message=b"", dcs=0, service_type="",
                      esm_class=0, registered_delivery=0, tlvs=None,
                      src_ton=1, src_npi=1):
    """dests: list of address strings, (ton, npi, addr) tuples, or
    ("dl", name) for a distribution list."""
    sm = text_encode(short_message, dcs)
    out = bytearray(cstr(service_type) + bytes((src_ton, src_npi)) +
                    cstr(src) + bytes((len(dests),)))
    for d in dests:
        if isinstance(d, str):
            d = (1, 1, d)
        if d[0] == "dl":
            out += b"\x02" + cstr(d[1])
        else:
            out += b"\x01" + bytes((d[0], d[1])) + cstr(d[2])
    out += (bytes((esm_class, 0, 0)) + cstr("") + cstr("") +
            bytes((registered_delivery, 0, dcs, 0, len(sm))) + sm +
            tlvs_encode(tlvs))
    return bytes(out)


def resp_body(message_id=""):
    """Body of submit_sm_resp / data_sm_resp / bind_*_resp (one C string)."""
    return cstr(message_id)


def submit_multi_resp_body(message_id, unsuccess=()):
    """unsuccess: [(ton, npi, addr, status)]."""
    out = bytearray(cstr(message_id) + bytes((len(unsuccess),)))
    for ton, npi, addr, st in unsuccess:
        out += bytes((ton, npi)) + cstr(addr) + struct.pack(">I", st)
    return bytes(out)


# --- decoding --------------------------------------------------------------

class _Cursor:
    def __init__(self, data):
        self.d = data
        self.i = 0

    def left(self):
        return len(self.d) - self.i

    def u8(self):
        if self.i >= len(self.d):
            raise DecodeError("octet past end")
        self.i += 1
        return self.d[self.i - 1]

    def u32(self):
        if self.left() < 4:
            raise DecodeError("u32 past end")
        v = struct.unpack_from(">I", self.d, self.i)[0]
        self.i += 4
        return v

    def cstr(self):
        j = self.d.find(b"\0", self.i)
        if j < 0:
            raise DecodeError("C-Octet string without NUL")
        s = self.d[self.i:j].decode("latin-1")
        self.i = j + 1
        return s

    def take(self, n):
        if self.left() < n:
            raise DecodeError("%d octets past end" % n)
        b = self.d[self.i:self.i + n]
        self.i += n
        return b

    def tlvs(self):
        out = []
        while self.left() > 0:
            if self.left() < 4:
                raise DecodeError("TLV header past end")
            tag, ln = struct.unpack_from(">HH", self.d, self.i)
            self.i += 4
            out.append((tag, self.take(ln)))
        return out


class Pdu:
    """A decoded PDU. f holds the parsed body fields (names as in SMPP v3.4
    section 4); body is the raw body; f["tlvs"] is [(tag, bytes)]."""

    def __init__(self, command_id, status, seq, body, f=None):
        self.command_id = command_id
        self.status = status
        self.seq = seq
        self.body = body
        self.f = f or {}

    @property
    def name(self):
        return cmd_name(self.command_id)

    def __getitem__(self, key):
        return self.f[key]

    def get(self, key, default=None):
        return self.f.get(key, default)

    def tlv(self, tag):
        for t, v in self.f.get("tlvs", ()):
            if t == tag:
                return v
        return None

    def text(self):
        """short_message (or message_payload) decoded per data_coding,
        UDH stripped when esm_class says there is one."""
        sm = self.f.get("short_message", b"")
        if not sm:
            sm = self.tlv(TLV_MESSAGE_PAYLOAD) or b""
        if self.f.get("esm_class", 0) & ESM_UDHI and sm:
            sm = sm[1 + sm[0]:]
        return text_decode(sm, self.f.get("data_coding", 0))

    def encode(self):
        return pdu_encode(self.command_id, self.seq, self.body, self.status)

    def __repr__(self):
        return "<Pdu %s seq=%d status=0x%x %r>" % (self.name, self.seq,
                                                  self.status, self.f)


def _parse_sm(c, f):
    f["service_type"] = c.cstr()
    f["source_addr_ton"] = c.u8()
    f["source_addr_npi"] = c.u8()
    f["source_addr"] = c.cstr()
    f["dest_addr_ton"] = c.u8()
    f["dest_addr_npi"] = c.u8()
    f["destination_addr"] = c.cstr()
    f["esm_class"] = c.u8()
    f["protocol_id"] = c.u8()
    f["priority_flag"] = c.u8()
    f["schedule_delivery_time"] = c.cstr()
    f["validity_period"] = c.cstr()
    f["registered_delivery"] = c.u8()
    f["replace_if_present_flag"] = c.u8()
    f["data_coding"] = c.u8()
    f["sm_default_msg_id"] = c.u8()
    n = c.u8()
    f["short_message"] = c.take(n)


def parse_body(command_id, body):
    """Parse body per command_id into a dict. DecodeError on bad bytes."""
    c = _Cursor(body)
    f = {}
    if command_id in (BIND_RECEIVER, BIND_TRANSMITTER, BIND_TRANSCEIVER):
        f["system_id"] = c.cstr()
        f["password"] = c.cstr()
        f["system_type"] = c.cstr()
        f["interface_version"] = c.u8()
        f["addr_ton"] = c.u8()
        f["addr_npi"] = c.u8()
        f["address_range"] = c.cstr()
    elif command_id in (BIND_RECEIVER_RESP, BIND_TRANSMITTER_RESP,
                        BIND_TRANSCEIVER_RESP):
        f["system_id"] = c.cstr() if c.left() else ""
    elif command_id in (SUBMIT_SM, DELIVER_SM):
        _parse_sm(c, f)
    elif command_id == DATA_SM:
        f["service_type"] = c.cstr()
        f["source_addr_ton"] = c.u8()
        f["source_addr_npi"] = c.u8()
        f["source_addr"] = c.cstr()
        f["dest_addr_ton"] = c.u8()
        f["dest_addr_npi"] = c.u8()
        f["destination_addr"] = c.cstr()
        f["esm_class"] = c.u8()
        f["registered_delivery"] = c.u8()
        f["data_coding"] = c.u8()
    elif command_id == SUBMIT_MULTI:
        f["service_type"] = c.cstr()
        f["source_addr_ton"] = c.u8()
        f["source_addr_npi"] = c.u8()
        f["source_addr"] = c.cstr()
        dests = []
        for _ in range(c.u8()):
            flag = c.u8()
            if flag == 1:
                dests.append((c.u8(), c.u8(), c.cstr()))
            elif flag == 2:
                dests.append(("dl", c.cstr()))
            else:
                raise DecodeError("bad dest_flag %d" % flag)
        f["dests"] = dests
        f["esm_class"] = c.u8()
        f["protocol_id"] = c.u8()
        f["priority_flag"] = c.u8()
        f["schedule_delivery_time"] = c.cstr()
        f["validity_period"] = c.cstr()
        f["registered_delivery"] = c.u8()
        f["replace_if_present_flag"] = c.u8()
        f["data_coding"] = c.u8()
        f["sm_default_msg_id"] = c.u8()
        n = c.u8()
        f["short_message"] = c.take(n)
    elif command_id in (SUBMIT_SM_RESP, DATA_SM_RESP):
        # An error resp may have no body at all (4.4.2).
        f["message_id"] = c.cstr() if c.left() else ""
    elif command_id == SUBMIT_MULTI_RESP:
        f["message_id"] = c.cstr() if c.left() else ""
        uns = []
        if c.left():
            for _ in range(c.u8()):
                uns.append((c.u8(), c.u8(), c.cstr(), c.u32()))
        f["unsuccess"] = uns
    elif command_id == DELIVER_SM_RESP:
        f["message_id"] = c.cstr() if c.left() else ""
    else:
        # enquire_link, unbind, generic_nack and friends: no body; anything
        # else is kept raw in pdu.body.
        return f
    f["tlvs"] = c.tlvs()
    return f


def pdu_decode(data):
    """bytes (one whole PDU) -> Pdu. DecodeError if the body is malformed;
    the header must be consistent."""
    if len(data) < 16:
        raise DecodeError("short header")
    length, cid, status, seq = HEADER.unpack_from(data)
    if length != len(data):
        raise DecodeError("command_length %d != %d" % (length, len(data)))
    body = bytes(data[16:])
    try:
        f = parse_body(cid, body)
    except DecodeError:
        if status != 0:
            f = {}
        else:
            raise
    return Pdu(cid, status, seq, body, f)


# --- blocking peers --------------------------------------------------------

class Conn:
    """A PDU stream over a connected socket.

    read_pdu() answers enquire_link itself (auto_enquire) and deliver_sm
    (auto_deliver_resp, with status deliver_status) and appends every
    deliver_sm to self.delivers; it still returns them. Responses are kept
    in self.resps by sequence number so wait_resp() finds them in any order.
    """

    def __init__(self, sock, max_len=1 << 20):
        self.sock = sock
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.seq = 0
        self.max_len = max_len
        self.auto_enquire = True
        self.auto_deliver_resp = True
        self.deliver_status = 0
        self.delivers = []
        self.resps = {}
        self.others = []
        self.closed = False

    # -- raw I/O
    def next_seq(self):
        self.seq = self.seq % 0x7FFFFFFF + 1
        return self.seq

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, command_id, body=b"", seq=None, status=0):
        """Send a PDU; returns its sequence number."""
        if seq is None:
            seq = self.next_seq()
        self.send_raw(pdu_encode(command_id, seq, body, status))
        return seq

    def respond(self, req, status=0, body=b""):
        return self.send(req.command_id | RESP, body, req.seq, status)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout("no PDU in time")
        r, _, _ = select.select([self.sock], [], [], left)
        if not r:
            raise Timeout("no PDU in time")
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            raise Closed("peer closed the connection")
        self.buf += chunk

    def read_raw(self, timeout=5.0):
        """Next whole frame as bytes (no decoding, no auto answers)."""
        deadline = time.monotonic() + timeout
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack_from(">I", self.buf)[0]
                if n < 16 or n > self.max_len:
                    raise DecodeError("bad command_length %d" % n)
                if len(self.buf) >= n:
                    frame = bytes(self.buf[:n])
                    del self.buf[:n]
                    return frame
            self._fill(deadline)

    def read_pdu(self, timeout=5.0):
        """Next PDU (decoded), handling auto answers. Raises Timeout/Closed."""
        pdu = pdu_decode(self.read_raw(timeout))
        if pdu.command_id == ENQUIRE_LINK and self.auto_enquire:
            self.respond(pdu)
        elif pdu.command_id == DELIVER_SM:
            self.delivers.append(pdu)
            if self.auto_deliver_resp:
                st = self.deliver_status
                if callable(st):
                    st = st(pdu)
                self.respond(pdu, st, cstr(""))
        if pdu.command_id & RESP:
            self.resps[pdu.seq] = pdu
        return pdu

    def wait_resp(self, seq, timeout=5.0):
        """The response with this sequence number (generic_nack included)."""
        deadline = time.monotonic() + timeout
        while seq not in self.resps:
            p = self.read_pdu(max(0.0, deadline - time.monotonic()))
            if not p.command_id & RESP:
                self.others.append(p)
        return self.resps.pop(seq)

    def wait_for(self, pred, timeout=5.0):
        """Read until a PDU satisfies pred (also searching PDUs already read
        and parked in self.others). Returns it."""
        for i, p in enumerate(self.others):
            if pred(p):
                return self.others.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            p = self.read_pdu(max(0.0, deadline - time.monotonic()))
            if pred(p):
                return p
            if not p.command_id & RESP:
                self.others.append(p)

    def wait_deliver(self, timeout=5.0, pred=None):
        """Next deliver_sm (optionally matching pred) not yet consumed."""
        return self.wait_for(lambda p: p.command_id == DELIVER_SM and
                             (pred is None or pred(p)), timeout)

    def wait_closed(self, timeout=5.0):
        """True if the peer closes within timeout (PDUs read meanwhile are
        handled as usual)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                p = self.read_pdu(max(0.0, deadline - time.monotonic()))
                if not p.command_id & RESP:
                    self.others.append(p)
        except Closed:
            return True
        except Timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Client(Conn):
    """An ESME. Client.connect(port) then bind(), submit(), ..."""

    @classmethod
    def connect(cls, port, host="127.0.0.1", timeout=5.0):
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.settimeout(None)
        return cls(sock)

    def bind(self, kind, system_id, password, system_type="",
             interface_version=0x34, timeout=5.0):
        """kind: tx|rx|trx (or full names). Returns command_status."""
        cid = BIND_KINDS[kind] if isinstance(kind, str) else kind
        seq = self.send(cid, bind_body(system_id, password, system_type,
                                       interface_version))
        r = self.wait_resp(seq, timeout)
        self.bind_resp = r
        return r.status

    def submit(self, src, dst, text=b"", dcs=0, service_type="",
               esm_class=0, tlvs=None, registered_delivery=0, timeout=5.0,
               **kw):
        """submit_sm; returns (command_status, message_id)."""
        r = self.submit_pdu(src, dst, text, dcs, service_type, esm_class,
                            tlvs, registered_delivery, timeout, **kw)
        return r.status, r.get("message_id", "")

    def submit_pdu(self, src, dst, text=b"", dcs=0, service_type="",
                   esm_class=0, tlvs=None, registered_delivery=0,
                   timeout=5.0, **kw):
        """submit_sm; returns the response Pdu (may be generic_nack)."""
        seq = self.send(SUBMIT_SM, submit_sm_body(
            src, dst, text, dcs, service_type, esm_class,
            registered_delivery, tlvs, **kw))
        return self.wait_resp(seq, timeout)

    def submit_async(self, src, dst, text=b"", dcs=0, service_type="",
                     esm_class=0, tlvs=None, registered_delivery=0, **kw):
        """Send a submit_sm without waiting; returns its seq."""
        return self.send(SUBMIT_SM, submit_sm_body(
            src, dst, text, dcs, service_type, esm_class,
            registered_delivery, tlvs, **kw))

    def data_sm(self, src, dst, payload=b"", dcs=0, service_type="",
                esm_class=0, registered_delivery=0, tlvs=None, timeout=5.0):
        """data_sm with payload in message_payload; (status, message_id)."""
        t = list(tlvs or [])
        if payload:
            t.insert(0, (TLV_MESSAGE_PAYLOAD, text_encode(payload, dcs)))
        seq = self.send(DATA_SM, data_sm_body(
            src, dst, dcs, service_type, esm_class, registered_delivery, t))
        r = self.wait_resp(seq, timeout)
        return r.status, r.get("message_id", "")

    def submit_multi(self, src, dests, text=b"", dcs=0, service_type="",
                     esm_class=0, registered_delivery=0, tlvs=None,
                     timeout=5.0):
        """Returns (status, message_id, unsuccess list)."""
        seq = self.send(SUBMIT_MULTI, submit_multi_body(
            src, dests, text, dcs, service_type, esm_class,
            registered_delivery, tlvs))
        r = self.wait_resp(seq, timeout)
        return r.status, r.get("message_id", ""), r.get("unsuccess", [])

    def enquire_link(self, timeout=5.0):
        return self.wait_resp(self.send(ENQUIRE_LINK), timeout).status

    def unbind(self, timeout=5.0):
        return self.wait_resp(self.send(UNBIND), timeout).status


class Listener:
    """A listening socket on 127.0.0.1 (port 0 = pick one; see .port)."""

    def __init__(self, port=0, host="127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def accept(self, timeout=5.0):
        """Next connection as a Conn. Raises Timeout."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            raise Timeout("no connection in time")
        s, _ = self.sock.accept()
        return Conn(s)

    def accept_bind(self, timeout=5.0, status=0, system_id="smsc"):
        """Accept one connection and answer its bind; returns (conn, bind
        Pdu)."""
        c = self.accept(timeout)
        p = c.wait_for(lambda x: x.command_id in (
            BIND_TRANSMITTER, BIND_RECEIVER, BIND_TRANSCEIVER), timeout)
        c.respond(p, status, cstr(system_id))
        return c, p

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
