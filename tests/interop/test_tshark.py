#!/usr/bin/env python3
"""Cross-check our SMPP encoder against Wireshark's SMPP dissector.

build/tools/pdu_samples encodes at least one PDU of every SMPP v3.4 command
in smpp/pdu.h, writes them to a pcap (one TCP segment per PDU, to port 2775)
and prints, as JSON, each PDU's fields as we meant them. tshark dissects the
pcap (forced to SMPP with -d, name resolution off, PDML output) and every
field it reports is compared with what we meant: header, mandatory fields,
submit_multi destinations, unsuccess_sme entries and each TLV (tag, length,
value bytes and tshark's reading of the value). Fields tshark reports that
we did not expect count as mismatches too, and so does a command of pdu.h
missing from tshark's output.

As a sanity check the same hex is decoded by our own decoder
(pdu_samples decode), which must give back every field we encoded.

Prints each mismatch and a closing 'N passed, N failed' line (one per
compared field); exits 1 on any mismatch. Needs tshark (Debian: tshark);
BUILD names the build tree (default build).
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

TOP = os.environ.get("STOPGATE_TOP") or os.path.abspath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(TOP, BUILD, "tools", "pdu_samples")
TIMEOUT = 60

passed = 0
failed = 0
notes = []


def ok(cond, where, what, want, got, who="tshark"):
    """Count one compared field; print it if it does not match."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("MISMATCH %s: %s: want %r, %s says %r" %
              (where, what, want, who, got))


def need_tool():
    if os.access(TOOL, os.X_OK):
        return
    # run-all.sh runs after 'make all'; build the tool alone if asked to
    # run this test by hand.
    rel = os.path.relpath(TOOL, TOP)
    subprocess.run(["make", "-C", TOP, "BUILD=" + BUILD, rel],
                   check=False, timeout=300, stdout=subprocess.DEVNULL)
    if not os.access(TOOL, os.X_OK):
        sys.exit("test_tshark: %s missing; run make first" % TOOL)


def run(argv, stdin=None):
    # TZ=UTC: tshark prints absolute times in the local zone otherwise.
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       timeout=TIMEOUT, env=dict(os.environ, TZ="UTC"))
    if r.returncode != 0:
        sys.exit("test_tshark: %s failed (%d): %s" %
                 (" ".join(argv), r.returncode, r.stderr.strip()))
    return r.stdout


def pdu_h_commands():
    """command_id -> name of every SMPP_CMD_* in smpp/pdu.h."""
    text = open(os.path.join(TOP, "smpp", "pdu.h")).read()
    cmds = {}
    # "#define SMPP_CMD_X 0x...u" (or an enumerator "SMPP_CMD_X = 0x...u").
    for name, val in re.findall(
            r"\bSMPP_CMD_(\w+)\s*=?\s*(0x[0-9A-Fa-f]+)u?\b", text):
        cmds[int(val, 16)] = name.lower()
    return cmds


# --- tshark's PDML ------------------------------------------------------

class Field:
    """One PDML field: name, show, raw bytes (or None), children."""

    def __init__(self, el):
        self.name = el.get("name") or ""
        self.show = el.get("show")
        self.pos = int(el.get("pos") or 0)
        self.size = int(el.get("size") or 0)
        value = el.get("value")
        self.raw = None
        if value is not None and len(value) == 2 * self.size:
            try:
                self.raw = bytes.fromhex(value)
            except ValueError:
                self.raw = None
        self.kids = [Field(k) for k in el if k.tag == "field"]

    def __repr__(self):
        return "%s=%r" % (self.name, self.show)


def tshark_pdus(pcap):
    """[(frame number, [Field...] of one smpp layer)] in capture order,
    plus a list of malformed-packet and expert-warning notes."""
    # Checksums on: the capture must be a coherent TCP stream, so a bad
    # segment shows as an expert warning rather than passing unseen.
    xml = run(["tshark", "-n", "-r", pcap, "-d", "tcp.port==2775,smpp",
               "-o", "ip.check_checksum:TRUE",
               "-o", "tcp.check_checksum:TRUE", "-T", "pdml"])
    root = ET.fromstring(xml)
    out, bad = [], []
    for n, pkt in enumerate(root.findall("packet"), 1):
        for proto in pkt.findall("proto"):
            name = proto.get("name")
            if name == "smpp":
                out.append((n, [Field(f) for f in proto
                                if f.tag == "field"]))
            elif name == "_ws.malformed":
                bad.append("frame %d: malformed packet" % n)
        # Expert items of warning severity (PI_WARN) or worse.
        for f in pkt.iter("field"):
            if f.get("name") == "_ws.expert" and any(
                    k.get("name") == "_ws.expert.severity" and
                    int(k.get("show") or 0) >= 0x600000 for k in f):
                bad.append("frame %d: expert warning: %s" %
                           (n, f.get("showname")))
    return out, bad


def num(show):
    """tshark shows integers as decimal or 0x-hex."""
    if show is None:
        return None
    show = show.strip()
    return int(show, 16) if show.lower().startswith("0x") else int(show)


TS_RE = re.compile(r"(\w{3})\s+(\d+), (\d{4}) (\d\d):(\d\d):(\d\d)\.(\d+) UTC")
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def smpp_time(s):
    """SMPP time string (§7.1.1) -> ('abs', UTC datetime) or ('rel', s)."""
    yy, mo, dd, hh, mi, ss = (int(s[i:i + 2]) for i in range(0, 12, 2))
    tenths, nn, p = int(s[12]), int(s[13:15]), s[15]
    if p == "R":
        # Only days and smaller are used in our samples: years and months
        # have no fixed length, and tshark's reading of them is its own.
        assert yy == 0 and mo == 0
        return ("rel", ((dd * 24 + hh) * 60 + mi) * 60 + ss + tenths / 10)
    t = datetime.datetime(2000 + yy, mo, dd, hh, mi, ss, tenths * 100000)
    # '+': local time is ahead of UTC by nn quarter hours.
    off = datetime.timedelta(minutes=15 * nn)
    return ("abs", t - off if p == "+" else t + off)


def ts_time(show):
    m = TS_RE.fullmatch(show or "")
    if not m:
        return None
    mon, d, y, hh, mi, ss, frac = m.groups()
    return datetime.datetime(int(y), MONTHS.index(mon) + 1, int(d), int(hh),
                             int(mi), int(ss), int(frac[:6].ljust(6, "0")))


# --- comparison ---------------------------------------------------------

class Cursor:
    """The smpp layer's top-level fields, consumed in wire order."""

    def __init__(self, fields, where):
        self.fields = list(fields)
        self.where = where

    def take(self, name):
        for i, f in enumerate(self.fields):
            if f.name == name:
                return self.fields.pop(i)
        return None

    def leftovers(self):
        return self.fields


def check_str(c, exp, key, fname):
    """A C-Octet string: raw bytes must be ours plus NUL. tshark omits
    an item for some empty strings (message_id) and shows '(Default)' for
    others (service_type); for those the raw byte must be the lone NUL."""
    want = exp[key]
    f = c.take(fname)
    if f is None:
        ok(want == "", c.where, fname, want, "(absent)")
        return
    ok(f.raw == want.encode("latin-1") + b"\0", c.where, fname + " bytes",
       want, f.raw)
    if want:
        ok(f.show == want, c.where, fname, want, f.show)


def check_int(c, exp, key, fname):
    f = c.take(fname)
    ok(f is not None and num(f.show) == exp[key], c.where, fname, exp[key],
       f.show if f else "(absent)")


def check_addr(c, exp, prefix, ton, npi, addr):
    check_int(c, exp, prefix + "_ton", "smpp." + ton)
    check_int(c, exp, prefix + "_npi", "smpp." + npi)
    check_str(c, exp, addr, "smpp." + addr)


def check_source(c, exp):
    check_int(c, exp, "source_addr_ton", "smpp.source_addr_ton")
    check_int(c, exp, "source_addr_npi", "smpp.source_addr_npi")
    check_str(c, exp, "source_addr", "smpp.source_addr")


def check_dest(c, exp):
    check_int(c, exp, "dest_addr_ton", "smpp.dest_addr_ton")
    check_int(c, exp, "dest_addr_npi", "smpp.dest_addr_npi")
    check_str(c, exp, "destination_addr", "smpp.destination_addr")


def check_esm(c, exp):
    # tshark splits esm_class into mode (bits 1-0), type (5-2), GSM
    # features (7-6), each shown shifted down.
    parts = [c.take("smpp.esm.submit." + n)
             for n in ("msg_mode", "msg_type", "features")]
    if None in parts:
        ok(False, c.where, "esm_class", exp["esm_class"], "(absent)")
        return
    got = num(parts[0].show) | num(parts[1].show) << 2 | \
        num(parts[2].show) << 6
    ok(got == exp["esm_class"], c.where, "esm_class", exp["esm_class"], got)


def check_regdel(c, exp):
    # receipt (bits 1-0), SME acks (3-2), intermediate notification (4);
    # bits 7-5 are reserved and not shown, so our samples leave them 0.
    parts = [c.take("smpp.regdel." + n) for n in ("receipt", "acks", "notif")]
    want = exp["registered_delivery"]
    assert want < 0x20
    if None in parts:
        ok(False, c.where, "registered_delivery", want, "(absent)")
        return
    got = num(parts[0].show) | num(parts[1].show) << 2 | \
        num(parts[2].show) << 4
    ok(got == want, c.where, "registered_delivery", want, got)


def check_time(c, exp, key, fname):
    want = exp[key]
    f = c.take(fname)
    fr = c.take(fname + "_r")
    if want == "":
        # An empty time is shown as a zero relative time of one NUL.
        ok(f is None and fr is not None and fr.raw == b"\0" and
           float(fr.show) == 0, c.where, fname, "(empty)", fr or f)
        return
    kind, val = smpp_time(want)
    got = f if kind == "abs" else fr
    if got is None:
        ok(False, c.where, fname, want, "(absent)")
        return
    ok(got.raw == want.encode() + b"\0", c.where, fname + " bytes", want,
       got.raw)
    if kind == "abs":
        ok(ts_time(got.show) == val, c.where, fname, val, got.show)
    else:
        ok(abs(float(got.show) - val) < 1e-6, c.where, fname, val, got.show)


def text_of(exp):
    """short_message as text, the way tshark decodes it, or None."""
    raw = bytes.fromhex(exp["short_message"])
    dc = exp.get("data_coding")
    if exp.get("esm_class", 0) & 0x40:
        return None
    if dc == 1:
        return raw.decode("ascii", "replace")
    if dc == 3:
        return raw.decode("latin-1")
    if dc == 8:
        return raw.decode("utf-16-be")
    return None


def check_short_message(c, exp):
    check_int(c, exp, "sm_length", "smpp.sm_length")
    want = bytes.fromhex(exp["short_message"])
    f = c.take("smpp.message")
    if not want:
        ok(f is None, c.where, "short_message", "(absent)", f)
    else:
        ok(f is not None and f.raw == want, c.where, "short_message",
           want, f.raw if f else "(absent)")
    txt = c.take("smpp.message_text")
    if txt is not None and want:
        # tshark adds the text only for some data_codings.
        t = text_of(exp)
        if t is not None:
            ok(txt.show == t, c.where, "message_text", t, txt.show)


def check_sm_tail(c, exp):
    check_esm(c, exp)
    check_int(c, exp, "protocol_id", "smpp.protocol_id")
    check_int(c, exp, "priority_flag", "smpp.priority_flag")
    check_time(c, exp, "schedule_delivery_time",
               "smpp.schedule_delivery_time")
    check_time(c, exp, "validity_period", "smpp.validity_period")
    check_regdel(c, exp)
    check_int(c, exp, "replace_if_present_flag",
              "smpp.replace_if_present_flag")
    check_int(c, exp, "data_coding", "smpp.data_coding")
    check_int(c, exp, "sm_default_msg_id", "smpp.sm_default_msg_id")
    check_short_message(c, exp)


def split_entries(kids, starts):
    """Cut a flat field list into entries, each opening with a name in
    starts (tshark lists submit_multi destinations flat)."""
    out = []
    for k in kids:
        if k.name in starts or not out:
            out.append([])
        out[-1].append(k)
    return out


def check_dests(c, exp):
    f = c.take("smpp.dlist")
    dests = exp["dest_address"]
    if f is None:
        ok(False, c.where, "dest_address", dests, "(absent)")
        return
    entries = split_entries(f.kids, ("smpp.dest_addr_ton", "smpp.dl_name"))
    ok(len(entries) == exp["number_of_dests"] == len(dests), c.where,
       "number_of_dests", exp["number_of_dests"], len(entries))
    for i, (d, e) in enumerate(zip(dests, entries)):
        ec = Cursor(e, "%s dest[%d]" % (c.where, i))
        if d["dest_flag"] == 2:
            check_str(ec, d, "dl_name", "smpp.dl_name")
        else:
            check_dest(ec, d)
        ok(not ec.leftovers(), ec.where, "extra fields", [],
           ec.leftovers())


def check_unsuccess(c, exp):
    f = c.take("smpp.dlist_resp")
    want = exp["unsuccess_sme"]
    entries = split_entries(f.kids, ("smpp.dest_addr_ton",)) if f else []
    ok(len(entries) == exp["no_unsuccess"] == len(want), c.where,
       "no_unsuccess", exp["no_unsuccess"], len(entries))
    for i, (u, e) in enumerate(zip(want, entries)):
        ec = Cursor(e, "%s unsuccess_sme[%d]" % (c.where, i))
        check_dest(ec, u)
        check_int(ec, u, "error_status_code", "smpp.error_status_code")
        ok(not ec.leftovers(), ec.where, "extra fields", [],
           ec.leftovers())


# tshark's field for each TLV tag we send, and how it shows the value:
#  int	one integer item; bytes: one byte-string item; str: a C string;
#  split	several byte-aligned items that tile the value;
#  bits	bit-field items: (field, value octet, mask) each;
#  extent	an item with no value (tshark shows only where it lies);
#  null	the zero-length item of a TLV that has no value.
TLV_FIELDS = {
    0x0005: ("smpp.dest_addr_subunit", "int"),
    0x0006: ("smpp.dest_network_type", "int"),
    0x0007: ("smpp.dest_bearer_type", "int"),
    0x0008: ("smpp.dest_telematics_id", "int"),
    0x000D: ("smpp.source_addr_subunit", "int"),
    0x000E: ("smpp.source_network_type", "int"),
    0x000F: ("smpp.source_bearer_type", "int"),
    0x0010: ("smpp.source_telematics_id", "int"),
    0x0017: ("smpp.qos_time_to_live", "int"),
    0x0019: ("smpp.payload_type", "int"),
    0x001D: ("smpp.additional_status_info_text", "str"),
    0x001E: ("smpp.receipted_message_id", "str"),
    0x0030: ("smpp.msg_wait.ind", "bits", [("smpp.msg_wait.ind", 0, 0x80),
                                           ("smpp.msg_wait.type", 0, 0x03)]),
    0x0201: ("smpp.privacy_indicator", "int"),
    0x0202: ("smpp.source_subaddress", "bytes"),
    0x0203: ("smpp.dest_subaddress", "bytes"),
    0x0204: ("smpp.user_message_reference", "int"),
    0x0205: ("smpp.user_response_code", "int"),
    0x020A: ("smpp.source_port", "int"),
    0x020B: ("smpp.destination_port", "int"),
    0x020C: ("smpp.sar_msg_ref_num", "int"),
    0x020D: ("smpp.language_indicator", "int"),
    0x020E: ("smpp.sar_total_segments", "int"),
    0x020F: ("smpp.sar_segment_seqnum", "int"),
    0x0210: ("smpp.SC_interface_version", "int"),
    0x0302: ("smpp.callback_num.pres", "bits",
             [("smpp.callback_num.pres", 0, 0x0C),
              ("smpp.callback_num.scrn", 0, 0x03)]),
    0x0303: ("smpp.callback_num_atag", "extent"),
    0x0304: ("smpp.number_of_messages", "int"),
    0x0381: ("smpp.callback_num", "extent"),
    0x0420: ("smpp.dpf_result", "int"),
    0x0421: ("smpp.set_dpf", "int"),
    0x0422: ("smpp.ms_availability_status", "int"),
    0x0423: ("smpp.network_error.type", "split"),
    0x0424: ("smpp.message_payload", "bytes"),
    0x0425: ("smpp.delivery_failure_reason", "int"),
    0x0426: ("smpp.more_messages_to_send", "int"),
    0x0427: ("smpp.message_state", "int"),
    0x0501: ("smpp.ussd_service_op", "int"),
    0x1201: ("smpp.display_time", "int"),
    0x1203: ("smpp.sms_signal", "int"),
    0x1204: ("smpp.ms_validity", "int"),
    0x130C: ("smpp.alert_on_message_delivery_null", "null"),
    0x1380: ("smpp.its_reply_type", "int"),
    0x1383: ("smpp.its_session.number", "bits",
             [("smpp.its_session.number", 0, 0xFF),
              ("smpp.its_session.sequence", 1, 0xFE),
              ("smpp.its_session.ind", 1, 0x01)]),
}


def check_tlvs(c, exp):
    want = exp["tlvs"]
    f = c.take("smpp.opt_params")
    got = [k for k in f.kids if k.name == "smpp.opt_param"] if f else []
    ok(len(got) == len(want), c.where, "TLV count", len(want), len(got))
    for i, (t, g) in enumerate(zip(want, got)):
        where = "%s TLV[%d] 0x%04x" % (c.where, i, t["tag"])
        tag = next((k for k in g.kids if k.name == "smpp.opt_param_tag"),
                   None)
        ln = next((k for k in g.kids if k.name == "smpp.opt_param_len"),
                  None)
        ok(tag is not None and num(tag.show) == t["tag"], where, "tag",
           t["tag"], tag.show if tag else None)
        ok(ln is not None and num(ln.show) == t["len"], where, "length",
           t["len"], ln.show if ln else None)
        ok(g.size == 4 + t["len"], where, "extent", 4 + t["len"], g.size)
        vals = sorted((k for k in g.kids
                       if k.name not in ("smpp.opt_param_tag",
                                         "smpp.opt_param_len")),
                      key=lambda k: k.pos)
        value = bytes.fromhex(t["value"])
        spec = TLV_FIELDS.get(t["tag"])
        if spec is None and 0x1400 <= t["tag"] <= 0x3FFF:
            # Vendor-specific tags (§5.3.1) show as smpp.vendor_op.
            spec = ("smpp.vendor_op", "bytes")
        if spec is None:
            ok(False, where, "tshark field",
               "(add tag 0x%04x to TLV_FIELDS)" % t["tag"],
               vals[0].name if vals else None)
            continue
        name, kind = spec[0], spec[1]
        ok(bool(vals) and vals[0].name == name, where, "tshark field",
           name, vals[0].name if vals else None)
        if not vals:
            continue
        if kind in ("int", "bytes", "str", "split"):
            # The value's bytes as tshark's value items tile them.
            raw = b"".join(k.raw or b"" for k in vals)
            ok(raw == value, where, "value bytes", value, raw)
        if kind == "int":
            ok(num(vals[0].show) == int.from_bytes(value, "big"), where,
               "value", int.from_bytes(value, "big"), vals[0].show)
        elif kind == "str":
            s = value.rstrip(b"\0").decode("latin-1")
            ok(vals[0].show == s, where, "value", s, vals[0].show)
        elif kind == "bits":
            for fname, octet, mask in spec[2]:
                k = next((k for k in vals if k.name == fname), None)
                shift = (mask & -mask).bit_length() - 1
                v = (value[octet] & mask) >> shift
                ok(k is not None and num(k.show) == v and
                   k.pos == g.pos + 4 + octet, where, fname, v,
                   k.show if k else None)
        elif kind in ("extent", "null"):
            ok(vals[0].pos == g.pos + 4 and vals[0].size == t["len"] and
               (kind == "extent" or t["len"] == 0), where, "value extent",
               t["len"], vals[0].size)


def check_pdu(exp, fields, where):
    c = Cursor(fields, where)
    cid = exp["command_id"]
    check_int(c, exp, "command_length", "smpp.command_length")
    f = c.take("smpp.command_id")
    ok(f is not None and num(f.show) == cid, where, "command_id", cid,
       f.show if f else None)
    f = c.take("smpp.command_status")
    if cid & 0x80000000:
        ok(f is not None and num(f.show) == exp["command_status"], where,
           "command_status", exp["command_status"], f.show if f else None)
    else:
        # tshark shows command_status for responses only.
        ok(f is None or num(f.show) == exp["command_status"], where,
           "command_status", exp["command_status"], f.show if f else None)
    check_int(c, exp, "sequence_number", "smpp.sequence_number")

    if cid & 0x80000000 and exp["command_status"] != 0:
        # tshark does not dissect the body of a failed response (§4
        # lets the sender omit it), so there is nothing more to compare.
        body = [k for k in exp if k not in HEADER_KEYS and k != "tlvs"]
        if body or exp["tlvs"]:
            notes.append("%s: status 0x%x: tshark skips the body (%s)" %
                         (where, exp["command_status"],
                          ", ".join(body) or "TLVs"))
        ok(not c.leftovers(), where, "fields after header", [],
           c.leftovers())
        return

    name = exp["command"]
    if name.startswith("bind_") and not name.endswith("_resp"):
        check_str(c, exp, "system_id", "smpp.system_id")
        check_str(c, exp, "password", "smpp.password")
        check_str(c, exp, "system_type", "smpp.system_type")
        check_int(c, exp, "interface_version", "smpp.interface_version")
        check_int(c, exp, "addr_ton", "smpp.addr_ton")
        check_int(c, exp, "addr_npi", "smpp.addr_npi")
        check_str(c, exp, "address_range", "smpp.address_range")
    elif name.startswith("bind_"):
        check_str(c, exp, "system_id", "smpp.system_id")
    elif name == "outbind":
        check_str(c, exp, "system_id", "smpp.system_id")
        check_str(c, exp, "password", "smpp.password")
    elif name in ("submit_sm", "deliver_sm"):
        check_str(c, exp, "service_type", "smpp.service_type")
        check_source(c, exp)
        check_dest(c, exp)
        check_sm_tail(c, exp)
    elif name == "submit_multi":
        check_str(c, exp, "service_type", "smpp.service_type")
        check_source(c, exp)
        check_dests(c, exp)
        check_sm_tail(c, exp)
    elif name == "submit_multi_resp":
        check_str(c, exp, "message_id", "smpp.message_id")
        check_unsuccess(c, exp)
    elif name in ("submit_sm_resp", "deliver_sm_resp", "data_sm_resp"):
        check_str(c, exp, "message_id", "smpp.message_id")
    elif name == "data_sm":
        check_str(c, exp, "service_type", "smpp.service_type")
        check_source(c, exp)
        check_dest(c, exp)
        check_esm(c, exp)
        check_regdel(c, exp)
        check_int(c, exp, "data_coding", "smpp.data_coding")
        # tshark may add the payload's text; compare it when it does.
        txt = c.take("smpp.message_text")
        pl = [t for t in exp["tlvs"] if t["tag"] == 0x0424]
        if txt is not None and pl:
            t = text_of(dict(exp, short_message=pl[0]["value"]))
            if t is not None:
                ok(txt.show == t, where, "message_text", t, txt.show)
    elif name == "query_sm":
        check_str(c, exp, "message_id", "smpp.message_id")
        check_source(c, exp)
    elif name == "query_sm_resp":
        check_str(c, exp, "message_id", "smpp.message_id")
        check_time(c, exp, "final_date", "smpp.final_date")
        check_int(c, exp, "message_state", "smpp.message_state")
        check_int(c, exp, "error_code", "smpp.error_code")
    elif name == "cancel_sm":
        check_str(c, exp, "service_type", "smpp.service_type")
        check_str(c, exp, "message_id", "smpp.message_id")
        check_source(c, exp)
        check_dest(c, exp)
    elif name == "replace_sm":
        check_str(c, exp, "message_id", "smpp.message_id")
        check_source(c, exp)
        check_time(c, exp, "schedule_delivery_time",
                   "smpp.schedule_delivery_time")
        check_time(c, exp, "validity_period", "smpp.validity_period")
        check_regdel(c, exp)
        check_int(c, exp, "sm_default_msg_id", "smpp.sm_default_msg_id")
        check_short_message(c, exp)
    elif name == "alert_notification":
        check_source(c, exp)
        check_addr(c, exp, "esme_addr", "esme_addr_ton", "esme_addr_npi",
                   "esme_addr")
    check_tlvs(c, exp)
    ok(not c.leftovers(), where, "fields we did not send", [],
       c.leftovers())


HEADER_KEYS = ("command", "command_id", "command_status", "sequence_number",
               "command_length", "sample", "hex")


def check_own_decode(samples):
    """Our decoder must give back every field we encoded."""
    hexes = "".join(s["hex"] + "\n" for s in samples)
    out = run([TOOL, "decode"], stdin=hexes).splitlines()
    ok(len(out) == len(samples), "own decode", "lines", len(samples),
       len(out))
    for s, line in zip(samples, out):
        d = json.loads(line)
        where = "own decode of sample %d (%s)" % (s["sample"], s["command"])
        ok(d.get("decode_status") == 0, where, "decode status", 0,
           d.get("decode_status"), "our decoder")
        got = d.get("pdu") or {}
        for k, v in s.items():
            if k not in ("sample", "hex"):
                ok(got.get(k) == v, where, k, v, got.get(k), "our decoder")
        extra = sorted(set(got) - set(s))
        ok(not extra, where, "fields we did not send", [], extra,
           "our decoder")
        # A proxy forwards what it decoded by encoding it again.
        ok(d.get("reencoded") == s["hex"], where, "re-encoded bytes",
           s["hex"], d.get("reencoded"), "our encoder")


def main():
    if shutil.which("tshark") is None:
        sys.exit("test_tshark: tshark not installed (apt-get install tshark)")
    need_tool()
    samples = [json.loads(l) for l in run([TOOL, "json"]).splitlines()]
    with tempfile.TemporaryDirectory(prefix="stopgate-tshark-") as tmp:
        pcap = os.path.join(tmp, "samples.pcap")
        run([TOOL, "pcap", pcap])
        pdus, bad = tshark_pdus(pcap)
    for b in bad:
        ok(False, b, "tshark verdict", "clean", "malformed/warning")

    ok(len(pdus) == len(samples), "capture", "SMPP PDUs dissected",
       len(samples), len(pdus))
    seen = set()
    for exp, (frame, fields) in zip(samples, pdus):
        where = "frame %d sample %d %s" % (frame, exp["sample"],
                                           exp["command"])
        check_pdu(exp, fields, where)
        cid = next((num(f.show) for f in fields
                    if f.name == "smpp.command_id"), None)
        seen.add(cid)

    missing = {cid: n for cid, n in pdu_h_commands().items()
               if cid not in seen}
    for cid, n in sorted(missing.items()):
        ok(False, "coverage", "command 0x%08x %s" % (cid, n),
           "in tshark's output", "missing")
    check_own_decode(samples)

    for n in notes:
        print("note: " + n)
    print("tshark: %d PDUs, %d commands of pdu.h covered, %d missing" %
          (len(pdus), len(seen & set(pdu_h_commands())), len(missing)))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
