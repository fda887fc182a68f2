#!/usr/bin/env python3
"""Cross-check our SMPP codec against the npm "smpp" package (node-smpp).

Two directions, field by field:

 1. npm encodes: smpp_crosscheck.js builds a PDU of every command the
    package knows with its PDU class and prints the bytes and what it meant
    (the PDU object after toBuffer(), plus the TLVs it wrote). Our decoder
    (pdu_samples decode) must give back every field. Commands the package
    knows that SMPP v3.4 does not (its v5.0 broadcast_* family) must be
    refused with ESME_RINVCMDID.
 2. we encode: pdu_samples prints our sample PDUs (every command in
    smpp/pdu.h) with what we meant; the package decodes the bytes
    (new PDU(buffer)) and every field it exposes must match, as the package
    presents it (times as Dates, short_message as {udh, message} text per
    data_coding, TLVs by name).

The package is pinned in package.json/package-lock.json and installed into
tests/interop/node_modules with 'npm ci' when missing. Prints every
mismatch and a closing 'N passed, N failed' line; exits 1 on any mismatch
or uncovered command. BUILD names the build tree (default build).
"""

import datetime
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("STOPGATE_TOP") or os.path.abspath(
    os.path.join(HERE, "..", ".."))
BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(TOP, BUILD, "tools", "pdu_samples")
JS = os.path.join(HERE, "smpp_crosscheck.js")
TIMEOUT = 60
ESME_RINVCMDID = 0x03
ESME_RINVPARLEN = 0xC2

passed = 0
failed = 0
notes = []


def ok(cond, where, what, want, got):
    """Count one compared field; print it if it does not match."""
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("MISMATCH %s: %s: want %r, got %r" % (where, what, want, got))


def run(argv, stdin=None, env=None):
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True,
                       timeout=TIMEOUT, env=env, cwd=HERE)
    if r.returncode != 0:
        sys.exit("test_npm_smpp: %s failed (%d): %s" %
                 (" ".join(argv), r.returncode, r.stderr.strip()[-2000:]))
    return r.stdout


def node(*args, stdin=None):
    # TZ=UTC: the package turns relative times into local Dates.
    env = dict(os.environ, TZ="UTC")
    return run(["node", JS] + list(args), stdin=stdin, env=env)


def need_node_modules():
    pin = json.load(open(os.path.join(HERE, "package.json")))
    want = pin["dependencies"]["smpp"]
    pkg = os.path.join(HERE, "node_modules", "smpp", "package.json")
    if os.path.exists(pkg) and json.load(open(pkg))["version"] == want:
        return
    if shutil.which("npm") is None:
        sys.exit("test_npm_smpp: npm not installed (apt-get install npm)")
    print("test_npm_smpp: npm ci (smpp %s)" % want)
    env = dict(os.environ, npm_config_audit="false",
               npm_config_fund="false", npm_config_update_notifier="false")
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE,
                       env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not os.path.exists(pkg):
        sys.exit("test_npm_smpp: npm ci failed: %s" % r.stderr[-2000:])
    got = json.load(open(pkg))["version"]
    if got != want:
        sys.exit("test_npm_smpp: installed smpp %s, pinned %s" % (got, want))


def need_tool():
    if os.access(TOOL, os.X_OK):
        return
    rel = os.path.relpath(TOOL, TOP)
    subprocess.run(["make", "-C", TOP, "BUILD=" + BUILD, rel],
                   check=False, timeout=300, stdout=subprocess.DEVNULL)
    if not os.access(TOOL, os.X_OK):
        sys.exit("test_npm_smpp: %s missing; run make first" % TOOL)


def pdu_h_commands():
    """command_id -> name of every SMPP_CMD_* in smpp/pdu.h."""
    text = open(os.path.join(TOP, "smpp", "pdu.h")).read()
    return {int(v, 16): n.lower() for n, v in re.findall(
        r"\bSMPP_CMD_(\w+)\s*=?\s*(0x[0-9A-Fa-f]+)u?\b", text)}


def smpp_time(s):
    """SMPP time string (§7.1.1) -> ('abs', UTC datetime) or ('rel', s)."""
    yy, mo, dd, hh, mi, ss = (int(s[i:i + 2]) for i in range(0, 12, 2))
    tenths, nn, p = int(s[12]), int(s[13:15]), s[15]
    if p == "R":
        assert yy == 0 and mo == 0	# no fixed length; not in samples
        return ("rel", ((dd * 24 + hh) * 60 + mi) * 60 + ss)
    t = datetime.datetime(2000 + yy, mo, dd, hh, mi, ss, tenths * 100000)
    off = datetime.timedelta(minutes=15 * nn)
    return ("abs", t - off if p == "+" else t + off)


# --- direction 1: the package encodes, we decode -------------------------

DERIVED = ("sm_length", "number_of_dests", "no_unsuccess", "tlvs")


def empty(v):
    return v in (0, "", [], None)


def our_dest(d):
    """The package's dest_address entry as our decode shows it."""
    if "dl_name" in d:
        return {"dest_flag": 2, "dl_name": d["dl_name"]}
    return {"dest_flag": 1, "dest_addr_ton": d.get("dest_addr_ton", 0),
            "dest_addr_npi": d.get("dest_addr_npi", 0),
            "destination_addr": d["destination_addr"]}


def npm_to_us(enc, dec, defs, ours):
    where = "npm->us %s" % enc["name"]
    pdu = enc["pdu"]
    cmd = pdu["command"]
    d = dec.get("pdu") or {}
    st = dec.get("decode_status")

    if pdu["command_id"] not in ours:
        # SMPP v5.0 commands; a v3.4 peer answers generic_nack with
        # ESME_RINVCMDID.
        ok(st == ESME_RINVCMDID, where, "decode status (not SMPP v3.4)",
           ESME_RINVCMDID, st)
        return
    if any(t["name"] == "alert_on_message_delivery" for t in enc["tlvs"]):
        # The package writes alert_on_message_delivery with a one-octet
        # value (SMPP v5.0 §4.8.4.1); SMPP v3.4 §5.3.2.41 defines it with
        # no value. Our codec accepts both lengths so such clients are not
        # bounced; it must decode the PDU. The package's reading of this
        # TLV differs from ours, so only this TLV is left out of the
        # field comparison.
        enc = dict(enc, tlvs=[t for t in enc["tlvs"]
                              if t["name"] != "alert_on_message_delivery"])
        d = dict(d, tlvs=[t for t in d.get("tlvs", []) if t["tag"] != 0x130C])
    ok(st == 0, where, "decode status", 0, st)
    if st != 0:
        return

    params = defs["commands"][cmd]["params"]
    ok(d.get("command") == cmd, where, "command", cmd, d.get("command"))
    ok(d.get("command_length") == enc["command_length"], where,
       "command_length", enc["command_length"], d.get("command_length"))
    for k in ("command_id", "command_status", "sequence_number"):
        ok(d.get(k) == pdu[k], where, k, pdu[k], d.get(k))
    for k, v in pdu.items():
        if k in ("command", "command_id", "command_status",
                 "sequence_number"):
            continue
        if k not in params:
            continue	# a TLV: compared below, in wire order
        if k == "short_message":
            ok(d.get("short_message") == v["hex"], where, k, v["hex"],
               d.get("short_message"))
            ok(d.get("sm_length") == len(v["hex"]) // 2, where, "sm_length",
               len(v["hex"]) // 2, d.get("sm_length"))
        elif k == "dest_address":
            want = [our_dest(x) for x in v]
            ok(d.get(k) == want, where, k, want, d.get(k))
            ok(d.get("number_of_dests") == len(v), where, "number_of_dests",
               len(v), d.get("number_of_dests"))
        elif k == "unsuccess_sme":
            ok(d.get(k) == v, where, k, v, d.get(k))
            ok(d.get("no_unsuccess") == len(v), where, "no_unsuccess",
               len(v), d.get("no_unsuccess"))
        else:
            ok(d.get(k) == v, where, k, v, d.get(k))
    # Anything we decoded that the package did not set must be empty
    # (a failed response the package sends as a bare header, say).
    for k, v in d.items():
        if k in pdu or k in DERIVED or k in ("command_length",
                                              "short_message"):
            continue
        ok(empty(v), where, "%s (not sent)" % k, "empty", v)
    want = [(t["tag"], len(t["value"]) // 2, t["value"]) for t in enc["tlvs"]]
    got = [(t["tag"], t["len"], t["value"]) for t in d.get("tlvs", [])]
    ok(got == want, where, "TLVs (tag, len, value) in order", want, got)

    # A proxy forwards what it decoded by encoding it again: the package's
    # bytes must come back unchanged. The one allowed difference: the
    # package sends a failed response as a bare header (§4 lets the body
    # be omitted) and our encoder always writes the body, so there the
    # header must match and the body be all empty fields.
    re_hex = dec.get("reencoded") or ""
    if (pdu["command_id"] & 0x80000000 and pdu["command_status"] != 0 and
            enc["command_length"] == 16 and len(re_hex) > 32):
        ok(re_hex[8:32] == enc["hex"][8:32] and
           set(re_hex[32:]) <= {"0"}, where, "re-encoded bare response",
           enc["hex"] + " + empty body", re_hex)
        notes.append("%s: the package sends the failed response as a "
                     "bare header; we forward it with an empty body (%d "
                     "octets)" % (where, len(re_hex) // 2))
    else:
        ok(re_hex == enc["hex"], where, "re-encoded bytes", enc["hex"],
           re_hex)


# --- direction 2: we encode, the package decodes -------------------------

# GSM 03.38 default alphabet: the package decodes data_coding 0 (and, its
# own choice, 1 = IA5) through it.
GSM7 = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
        " !\"#¤%&'()*+,-./0123456789:;<=>?"
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿"
        "abcdefghijklmnopqrstuvwxyzäöñüà")
assert len(GSM7) == 128
# data_coding & 0x0F -> the package's encoding name (first match in its
# consts.ENCODING); only ASCII, LATIN1 and UCS2 have text decoders.
NPM_ENC = {0: "ASCII", 1: "ASCII", 3: "LATIN1", 8: "UCS2"}


def npm_text(raw, dc):
    name = NPM_ENC.get(dc & 0x0F)
    if name == "ASCII":
        assert 0x1B not in raw	# escapes: not in our samples
        return "".join(GSM7[b] if b < 128 else " " for b in raw)
    if name == "LATIN1":
        return raw.decode("latin-1")
    if name == "UCS2":
        return raw.decode("utf-16-be")
    return {"hex": raw.hex()}	# binary and others stay bytes


def npm_message(raw, exp, skip_udh):
    """What the package's message filter makes of short_message or
    message_payload bytes in our PDU exp."""
    if "data_coding" not in exp:
        return {"hex": raw.hex()}	# replace_sm: no filter without it
    view = {}
    if not skip_udh and raw and exp.get("esm_class", 0) & 0x40:
        udh, raw = raw[:raw[0] + 1], raw[raw[0] + 1:]
        ies, i = [], 1
        while i < len(udh):
            ies.append({"hex": udh[i:i + udh[i + 1] + 2].hex()})
            i += udh[i + 1] + 2
        view["udh"] = ies
    view["message"] = npm_text(raw, exp["data_coding"])
    return view


def npm_time(s):
    if s == "":
        return ""
    kind, val = smpp_time(s)
    return (kind, val)


def check_date(where, k, want, got):
    if want == "":
        ok(got == "", where, k, "", got)
        return
    kind, val = want
    d = got.get("date") if isinstance(got, dict) else None
    try:
        t = datetime.datetime.fromisoformat(d.replace("Z", "+00:00"))
        t = t.replace(tzinfo=None)
    except (AttributeError, ValueError):
        ok(False, where, k, val, got)
        return
    if kind == "abs":
        ok(t == val, where, k, val.isoformat(), d)
    else:
        # Relative: the package adds it to its own clock (whole seconds).
        now = datetime.datetime.now(datetime.timezone.utc).replace(
            tzinfo=None)
        delta = (t - now).total_seconds()
        ok(abs(delta - val) < 15, where, k, "now + %ds" % val, d)


def npm_tlv(exp, t, tdef, skip_udh):
    raw = bytes.fromhex(t["value"])
    kind = tdef["type"]
    if tdef["name"] == "message_payload":
        return npm_message(raw, exp, skip_udh)
    if tdef["name"] == "callback_num":
        return {"digit_mode": raw[0], "ton": raw[1], "npi": raw[2],
                "number": raw[3:].decode("latin-1")}
    if tdef["name"] == "callback_num_atag":
        return {"encoding": raw[0], "display": {"hex": raw[1:].hex()}}
    if tdef["filter"]:
        return None	# a filtered TLV we do not send: add it above
    if kind in ("int8", "int16", "int32"):
        n = {"int8": 1, "int16": 2, "int32": 4}[kind]
        return int.from_bytes(raw[:n], "big")
    if kind == "cstring":
        return raw.split(b"\0")[0].decode("latin-1")
    if kind == "string":
        return raw.decode("latin-1")
    return {"hex": raw.hex()}


# TLVs the package misreads, by tag: the field is skipped, with the reason.
NPM_BUGS = {
    # SMPP v3.4 gives source_telematics_id as 1 octet in the §5.3.2 table
    # (2 in §5.3.2.9); we send 1, as tshark reads it. The package always
    # reads 2 octets whatever the TLV's length says, taking the first
    # octet of the next TLV's tag into the value.
    0x0010: "reads source_telematics_id as 2 octets, ignoring length 1",
    # alert_on_message_delivery has no value in SMPP v3.4 (§5.3.2.41).
    # The package reads one octet anyway, past the TLV, from the next
    # TLV's tag (and would throw RangeError were it the PDU's last).
    0x130C: "reads a value octet from a zero-length "
            "alert_on_message_delivery",
}


def us_to_npm(exp, dec, defs):
    where = "us->npm sample %d %s" % (exp["sample"], exp["command"])
    if "error" in dec:
        ok(False, where, "decode", "a PDU", dec["error"])
        return
    n = dec["pdu"]
    cmd = exp["command"]
    ok(n.get("command") == cmd, where, "command", cmd, n.get("command"))
    for k in ("command_id", "command_status", "sequence_number",
              "command_length"):
        ok(n.get(k) == exp[k], where, k, exp[k], n.get(k))
    params = defs["commands"].get(cmd, {}).get("params", [])
    sm_view = None
    for p in params:
        got = n.get(p)
        if p in ("schedule_delivery_time", "validity_period", "final_date"):
            check_date(where, p, npm_time(exp[p]), got)
        elif p == "short_message":
            sm_view = npm_message(bytes.fromhex(exp[p]), exp, False)
            ok(got == sm_view, where, p, sm_view, got)
        elif p == "dest_address":
            want = [{"dl_name": x["dl_name"]} if x["dest_flag"] == 2 else
                    {k: x[k] for k in ("dest_addr_ton", "dest_addr_npi",
                                       "destination_addr")}
                    for x in exp[p]]
            ok(got == want, where, p, want, got)
        elif p not in exp:
            ok(False, where, p, "(a field pdu_samples names)", got)
        else:
            ok(got == exp[p], where, p, exp[p], got)
    # message_payload's UDH is skipped when short_message has text.
    skip = bool(sm_view and sm_view.get("message") and (
        len(sm_view["message"]) if isinstance(sm_view["message"], str)
        else len(sm_view["message"]["hex"])))
    names = set()
    for t in exp["tlvs"]:
        tdef = defs["tlvs"].get(str(t["tag"]))
        if tdef is None:
            # Tags the package does not know stay bytes, keyed by number.
            name, want = str(t["tag"]), {"hex": t["value"]}
        else:
            name, want = tdef["name"], npm_tlv(exp, t, tdef, skip)
            if tdef["multiple"]:
                want = [want]
        names.add(name)
        if t["tag"] in NPM_BUGS:
            notes.append("%s: TLV 0x%04x skipped: the package %s (got %r)" %
                         (where, t["tag"], NPM_BUGS[t["tag"]], n.get(name)))
            continue
        ok(want is not None and n.get(name) == want, where,
           "TLV 0x%04x %s" % (t["tag"], name), want, n.get(name))
    header = ("command", "command_id", "command_status", "sequence_number",
              "command_length")
    extra = sorted(set(n) - set(header) - set(params) - names)
    ok(not extra, where, "fields we did not send", [], extra)


def main():
    if shutil.which("node") is None:
        sys.exit("test_npm_smpp: node not installed (apt-get install nodejs)")
    need_node_modules()
    need_tool()
    ours = pdu_h_commands()
    defs = json.loads(node("defs"))
    npm_ids = {c["id"]: name for name, c in defs["commands"].items()}

    # 1: the package encodes, we decode.
    encs = [json.loads(l) for l in node("encode").splitlines()]
    decs = [json.loads(l) for l in run(
        [TOOL, "decode"], stdin="".join(e["hex"] + "\n" for e in encs)
    ).splitlines()]
    ok(len(decs) == len(encs), "npm->us", "decoded lines", len(encs),
       len(decs))
    for e, d in zip(encs, decs):
        npm_to_us(e, d, defs, ours)
    covered1 = {e["pdu"]["command_id"] for e in encs}

    # 2: we encode, the package decodes.
    samples = [json.loads(l) for l in run([TOOL, "json"]).splitlines()]
    decs = [json.loads(l) for l in node(
        "decode", stdin="".join(s["hex"] + "\n" for s in samples)
    ).splitlines()]
    ok(len(decs) == len(samples), "us->npm", "decoded lines", len(samples),
       len(decs))
    for s, d in zip(samples, decs):
        us_to_npm(s, d, defs)
    covered2 = {s["command_id"] for s in samples}

    # Coverage: every command the package supports, every one of ours.
    for cid, name in sorted(npm_ids.items()):
        ok(cid in covered1, "coverage npm->us", name, "encoded", "missing")
    for cid, name in sorted(ours.items()):
        ok(cid in covered2, "coverage us->npm", name, "encoded", "missing")
        ok(cid in npm_ids, "coverage", name, "known to the package",
           "unsupported")
    only_npm = sorted(n for c, n in npm_ids.items() if c not in ours)
    only_us = sorted(n for c, n in ours.items() if c not in npm_ids)

    for n in notes:
        print("note: " + n)
    print("npm smpp %s: %d PDUs encoded by it, %d by us; commands it has "
          "that SMPP v3.4 lacks (refused by us): %s; ours it lacks: %s" %
          (json.load(open(os.path.join(HERE, "node_modules", "smpp",
                                       "package.json")))["version"],
           len(encs), len(samples), ", ".join(only_npm) or "none",
           ", ".join(only_us) or "none"))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
