#!/usr/bin/env node
/*
 * The npm "smpp" package as a peer of stopgate, for test_npm_proxy.py.
 * Every event prints as one JSON line on stdout ({"ev": NAME, ...});
 * buffers print as hex, times as seconds since start. 127.0.0.1 only.
 *
 *  node npm_peer.js client --port P [--system-id ID] [--password PW]
 *	[--bind trx|tx|rx] [--src ADDR] [--to N1,N2,...] [--count N]
 *	[--pipeline] [--dlr] [--wait-dlr SECONDS] [--listen SECONDS]
 *	[--multi] [--data-sm] [--tls] [--ca FILE] [--timeout SECONDS]
 *	A department: binds to stopgate, submits one message to each --to
 *	number in turn, the list --count times (registered_delivery 1 with
 *	--dlr; with --pipeline all at once, without waiting for responses),
 *	prints each submit_sm_resp, waits up to --wait-dlr seconds for a
 *	receipt for
 *	every accepted submit (--listen: stays bound that long collecting
 *	deliver_sm), sends enquire_link, unbinds and exits 0. --multi adds
 *	one submit_multi to all --to numbers, --data-sm one data_sm (text in
 *	message_payload) to each, after the submit_sm and before the wait.
 *	--tls connects with TLS, verifying the server against --ca FILE (and
 *	its certificate's IP address) when given.
 *	A failed bind prints its status and exits 0 after the peer closes
 *	(or 3 s). Exits 2 on --timeout (default 30 s).
 *
 *  node npm_peer.js smsc --port P [--ctl-port C] [--system-id ID]
 *	[--password PW] [--first-id N] [--receipts always|requested|never]
 *	[--receipt-ms MS] [--no-receipt-tlv] [--receipt-first]
 *	[--tls-cert FILE --tls-key FILE]
 *	An SMSC: accepts binds (checked when --system-id/--password are
 *	given: ESME_RINVSYSID / ESME_RINVPASWD), answers every submit_sm with
 *	message id "npm" + N (N from --first-id, default 1000), then, after
 *	--receipt-ms (default 100), for every submit (--receipts always, the
 *	default) or those asking for one (requested: registered_delivery
 *	bits 1..0 == 01) pushes a delivery receipt (esm_class 0x04,
 *	Appendix B text, receipted_message_id and message_state TLVs unless
 *	--no-receipt-tlv) to the session that submitted it; answers
 *	enquire_link and unbind. --receipt-first sends the receipt before
 *	the submit_sm_resp (which follows --receipt-ms later), as some SMSCs
 *	do. With --tls-cert/--tls-key it listens with
 *	TLS only.
 *	Control port lines (one reply line each, "ok ..." or "err ..."):
 *	  mo FROM TO TEXT...	deliver_sm esm_class 0 to a bound session
 *	  enquire		enquire_link to every bound session
 *	  unbind		unbind every bound session (close on the resp)
 *	  stats			ok binds=N submits=N delivers=N resps=N
 *	Runs until SIGTERM/SIGINT.
 */
'use strict';

const fs = require('fs');
const net = require('net');
const smpp = require('smpp');

const t0 = Date.now();

function emit(ev, fields) {
	const o = Object.assign({ ev, t: (Date.now() - t0) / 1000 },
	    fields || {});
	process.stdout.write(JSON.stringify(o, (k, v) => {
		if (v && v.type === 'Buffer' && Array.isArray(v.data))
			return Buffer.from(v.data).toString('hex');
		return v;
	}) + '\n');
}

/* Options without a value. */
const FLAGS = new Set(['dlr', 'pipeline', 'no-receipt-tlv', 'multi',
    'data-sm', 'tls', 'receipt-first']);

function parseArgs(argv) {
	const o = { _: [] };
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (!a.startsWith('--')) {
			o._.push(a);
			continue;
		}
		const k = a.slice(2);
		if (FLAGS.has(k)) {
			o[k] = true;
			continue;
		}
		if (i + 1 >= argv.length)
			die('option ' + a + ' needs a value');
		o[k] = argv[++i];
	}
	return o;
}

function die(msg) {
	emit('fatal', { msg });
	process.exit(1);
}

/* short_message as text whatever the package made of it. */
function smText(pdu) {
	const sm = pdu.short_message;
	if (sm === undefined || sm === null)
		return '';
	if (Buffer.isBuffer(sm))
		return sm.toString('latin1');
	if (typeof sm === 'string')
		return sm;
	if (Buffer.isBuffer(sm.message))
		return sm.message.toString('latin1');
	return String(sm.message || '');
}

function tlvText(v) {
	if (v === undefined || v === null)
		return null;
	if (Buffer.isBuffer(v))
		return v.toString('latin1').replace(/\0+$/, '');
	return String(v);
}

/* --- client ------------------------------------------------------------- */

function runClient(o) {
	const port = Number(o.port);
	const kind = o.bind || 'trx';
	const bindCmd = { trx: 'bind_transceiver', tx: 'bind_transmitter',
	    rx: 'bind_receiver' }[kind];
	const list = o.to ? o.to.split(',').filter((x) => x) : [];
	const to = [];
	for (let n = Number(o.count || 1); n > 0; n--)
		to.push(...list);
	const pipeline = !!o.pipeline;
	let answered = 0;
	const waitDlr = Number(o['wait-dlr'] || 0) * 1000;
	const wantDlr = !!o.dlr;
	const accepted = new Map();	/* message_id -> destination */
	const receipts = new Set();	/* receipted_message_id seen */
	let dlrTimer = null;
	let finishing = false;

	setTimeout(() => {
		emit('timeout');
		process.exit(2);
	}, Number(o.timeout || 30) * 1000).unref();

	if (!bindCmd)
		die('bad --bind ' + kind);
	const copts = { host: '127.0.0.1', port };
	if (o.tls) {
		copts.tls = true;
		if (o.ca) {
			copts.ca = fs.readFileSync(o.ca);
			copts.rejectUnauthorized = true;
		}
	}
	const s = smpp.connect(copts);
	s.on('error', (e) => emit('error', { msg: e.message }));
	s.on('close', () => {
		emit('close');
		process.exit(0);
	});
	s.on('deliver_sm', (pdu) => {
		const rid = tlvText(pdu.receipted_message_id);
		emit('deliver_sm', {
			seq: pdu.sequence_number,
			esm_class: pdu.esm_class,
			source_addr: pdu.source_addr,
			destination_addr: pdu.destination_addr,
			receipted_message_id: rid,
			message_state: pdu.message_state === undefined ?
			    null : pdu.message_state,
			text: smText(pdu),
		});
		s.send(pdu.response());
		if (rid !== null) {
			receipts.add(rid);
			if (dlrTimer && missing().length === 0) {
				clearTimeout(dlrTimer);
				finish();
			}
		}
	});
	s.on('enquire_link', (pdu) => {
		emit('enquire_link', { seq: pdu.sequence_number });
		s.send(pdu.response());
	});
	s.on('unbind', (pdu) => {
		emit('unbind', { seq: pdu.sequence_number });
		s.send(pdu.response());
	});
	s.on('generic_nack', (pdu) => emit('generic_nack',
	    { status: pdu.command_status, seq: pdu.sequence_number }));

	function finish() {
		if (finishing)
			return;
		finishing = true;
		s.enquire_link({}, (r) => {
			emit('enquire_link_resp', { status: r.command_status,
			    seq: r.sequence_number });
			s.unbind({}, (u) => {
				emit('unbind_resp',
				    { status: u.command_status });
				/* close: the peer should close first */
				setTimeout(() => s.close(), 3000).unref();
			});
		});
	}

	function submitNext(i) {
		if (pipeline && i < to.length) {
			for (let k = 0; k < to.length; k++)
				submitOne(k, () => {
					if (++answered === to.length)
						afterSubmits();
				});
			return;
		}
		if (i >= to.length) {
			afterSubmits();
			return;
		}
		submitOne(i, () => submitNext(i + 1));
	}

	function missing() {
		return [...accepted.keys()].filter((k) => !receipts.has(k));
	}

	function afterSubmits() {
		if (o.multi && !o.multiDone) {
			o.multiDone = true;
			s.submit_multi({
				source_addr: o.src || '12345',
				dest_address: list.map((d) => ({
				    dest_addr_ton: 1, dest_addr_npi: 1,
				    destination_addr: d })),
				short_message: 'npm multi',
			}, (r) => {
				emit('submit_multi_resp', {
				    status: r.command_status,
				    message_id: r.message_id === undefined ?
				    '' : r.message_id,
				    unsuccess_sme: r.unsuccess_sme || [] });
				afterSubmits();
			});
			return;
		}
		if (o['data-sm'] && !o.dataDone) {
			o.dataDone = true;
			let left = list.length;
			list.forEach((d) => s.data_sm({
				source_addr: o.src || '12345',
				dest_addr_ton: 1, dest_addr_npi: 1,
				destination_addr: d,
				data_coding: 0,
				message_payload: Buffer.from('npm data_sm',
				    'latin1'),
			}, (r) => {
				emit('data_sm_resp', { to: d,
				    status: r.command_status,
				    message_id: r.message_id === undefined ?
				    '' : r.message_id });
				if (--left === 0)
					afterSubmits();
			}));
			if (left === 0)
				afterSubmits();
			return;
		}
		if (o.listen) {
			setTimeout(finish, Number(o.listen) * 1000);
			return;
		}
		if (wantDlr && waitDlr > 0 && missing().length > 0) {
			dlrTimer = setTimeout(() => {
				emit('dlr_timeout', { missing: missing() });
				finish();
			}, waitDlr);
			return;
		}
		finish();
	}

	function submitOne(i, next) {
		s.submit_sm({
			source_addr_ton: 0, source_addr_npi: 0,
			source_addr: o.src || '12345',
			dest_addr_ton: 1, dest_addr_npi: 1,
			destination_addr: to[i],
			registered_delivery: wantDlr ? 1 : 0,
			short_message: 'npm interop ' + (i + 1),
		}, (r) => {
			const mid = r.message_id === undefined ? '' :
			    r.message_id;
			emit('submit_sm_resp', { to: to[i],
			    status: r.command_status, message_id: mid,
			    seq: r.sequence_number });
			if (r.command_status === 0)
				accepted.set(mid, to[i]);
			next();
		});
	}

	s.on(o.tls ? 'secureConnect' : 'connect', () => {
		emit('connect', { tls: !!o.tls });
		s[bindCmd]({
			system_id: o['system-id'] || 'marketing',
			password: o.password || 'mkpass1',
			system_type: '', interface_version: 0x34,
		}, (r) => {
			emit('bind_resp', { command: r.command,
			    status: r.command_status,
			    system_id: r.system_id === undefined ? null :
			    r.system_id });
			if (r.command_status !== 0) {
				setTimeout(() => {
					emit('not_closed');
					process.exit(0);
				}, 3000).unref();
				return;
			}
			submitNext(0);
		});
	});
}

/* --- smsc --------------------------------------------------------------- */

function smppTime(d) {
	const p = (n) => String(n).padStart(2, '0');
	return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) +
	    p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

function runSmsc(o) {
	const port = Number(o.port);
	const want = { id: o['system-id'], pw: o.password };
	const dlrMode = o.receipts || 'always';
	if (!['always', 'requested', 'never'].includes(dlrMode))
		die('bad --receipts ' + dlrMode);
	const dlrMs = Number(o['receipt-ms'] || 100);
	let nextId = Number(o['first-id'] || 1000);
	const bound = new Set();
	const stats = { binds: 0, submits: 0, delivers: 0, resps: 0 };

	function onSession(s) {
		const peer = s.remotePort;
		emit('connect', { peer });
		s.on('error', (e) => emit('error', { peer, msg: e.message }));
		s.on('close', () => {
			bound.delete(s);
			emit('close', { peer });
		});
		const onBind = (pdu) => {
			let st = 0;
			if (want.id !== undefined && pdu.system_id !== want.id)
				st = smpp.ESME_RINVSYSID;
			else if (want.pw !== undefined &&
			    pdu.password !== want.pw)
				st = smpp.ESME_RINVPASWD;
			emit('bind', { peer, command: pdu.command,
			    system_id: pdu.system_id,
			    interface_version: pdu.interface_version,
			    status: st });
			if (st) {
				s.send(pdu.response({ command_status: st }));
				setTimeout(() => s.close(), 100);
				return;
			}
			stats.binds++;
			s.send(pdu.response({ system_id: 'npm-smsc' }));
			s.boundAs = pdu.command;
			bound.add(s);
		};
		s.on('bind_transceiver', onBind);
		s.on('bind_transmitter', onBind);
		s.on('bind_receiver', onBind);
		s.on('enquire_link', (pdu) => {
			emit('enquire_link', { peer });
			s.send(pdu.response());
		});
		s.on('unbind', (pdu) => {
			emit('unbind', { peer });
			bound.delete(s);
			s.send(pdu.response(), () => s.close());
		});
		s.on('deliver_sm_resp', (pdu) => {
			stats.resps++;
			emit('deliver_sm_resp', { peer,
			    seq: pdu.sequence_number,
			    status: pdu.command_status });
		});
		s.on('submit_sm', (pdu) => {
			stats.submits++;
			const mid = 'npm' + nextId++;
			const text = smText(pdu);
			emit('submit_sm', { peer, message_id: mid,
			    source_addr: pdu.source_addr,
			    destination_addr: pdu.destination_addr,
			    service_type: pdu.service_type,
			    registered_delivery: pdu.registered_delivery,
			    data_coding: pdu.data_coding, text });
			const rd = pdu.registered_delivery & 3;
			const wantReceipt = dlrMode === 'always' ||
			    (dlrMode === 'requested' && rd === 1);
			if (o['receipt-first'] && wantReceipt) {
				sendReceipt(s, pdu, mid, text);
				setTimeout(() => s.send(pdu.response(
				    { message_id: mid })), dlrMs);
				return;
			}
			s.send(pdu.response({ message_id: mid }));
			if (!wantReceipt)
				return;
			setTimeout(() => sendReceipt(s, pdu, mid, text),
			    dlrMs);
		});
		s.on('pdu', (pdu) => {
			if (pdu.command === 'unknown' ||
			    pdu.command === 'data_sm' ||
			    pdu.command === 'submit_multi') {
				emit('other', { peer, command: pdu.command,
				    command_id: pdu.command_id });
				s.send(pdu.response({ command_status:
				    smpp.ESME_RINVCMDID }));
			}
		});
	}

	function sendReceipt(s, sub, mid, text) {
		if (s.closed)
			return;
		const now = smppTime(new Date());
		const body = 'id:' + mid + ' sub:001 dlvrd:001 submit date:' +
		    now + ' done date:' + now + ' stat:DELIVRD err:000 text:' +
		    text.slice(0, 20);
		const opts = {
			source_addr_ton: sub.dest_addr_ton,
			source_addr_npi: sub.dest_addr_npi,
			source_addr: sub.destination_addr,
			dest_addr_ton: sub.source_addr_ton,
			dest_addr_npi: sub.source_addr_npi,
			destination_addr: sub.source_addr,
			esm_class: 0x04,
			data_coding: 0,
			short_message: Buffer.from(body, 'latin1'),
		};
		if (!o['no-receipt-tlv']) {
			opts.receipted_message_id = mid;
			opts.message_state = 2;
		}
		stats.delivers++;
		s.deliver_sm(opts, null, (p) => emit('receipt_sent', {
			peer: s.remotePort, seq: p.sequence_number,
			message_id: mid, destination_addr: sub.source_addr,
		}));
	}

	function pushMo(from, to, text) {
		let target = null;
		for (const s of bound) {
			if (s.boundAs !== 'bind_transmitter') {
				target = s;
				break;
			}
		}
		if (!target)
			return null;
		stats.delivers++;
		const pdu = new smpp.PDU('deliver_sm', {
			source_addr_ton: 1, source_addr_npi: 1,
			source_addr: from,
			dest_addr_ton: 0, dest_addr_npi: 0,
			destination_addr: to,
			esm_class: 0, data_coding: 0,
			short_message: Buffer.from(text, 'latin1'),
		});
		target.send(pdu);
		emit('mo_sent', { peer: target.remotePort,
		    seq: pdu.sequence_number, source_addr: from,
		    destination_addr: to, text });
		return pdu.sequence_number;
	}

	const sopts = {};
	if (o['tls-cert'] || o['tls-key']) {
		sopts.cert = fs.readFileSync(o['tls-cert']);
		sopts.key = fs.readFileSync(o['tls-key']);
	}
	const server = smpp.createServer(sopts, onSession);
	server.on('tlsClientError', (e) => emit('tls_error',
	    { msg: e.message }));
	server.on('error', (e) => die('listen: ' + e.message));
	server.listen(port, '127.0.0.1', () => emit('listening', { port }));

	if (o['ctl-port']) {
		const ctl = net.createServer((c) => {
			let buf = '';
			c.on('error', () => {});
			c.on('data', (d) => {
				buf += d.toString('latin1');
				let i;
				while ((i = buf.indexOf('\n')) >= 0) {
					const line = buf.slice(0, i).trim();
					buf = buf.slice(i + 1);
					c.write(control(line) + '\n');
				}
			});
		});
		ctl.on('error', (e) => die('control: ' + e.message));
		ctl.listen(Number(o['ctl-port']), '127.0.0.1',
		    () => emit('control', { port: Number(o['ctl-port']) }));
	}

	function control(line) {
		const w = line.split(/\s+/);
		if (w[0] === 'mo' && w.length >= 4) {
			const seq = pushMo(w[1], w[2], w.slice(3).join(' '));
			return seq === null ? 'err no bound receiver' :
			    'ok ' + seq;
		}
		if (w[0] === 'enquire' || w[0] === 'unbind') {
			let n = 0;
			for (const s of bound) {
				n++;
				const peer = s.remotePort;
				if (w[0] === 'enquire') {
					s.enquire_link({}, (r) =>
					    emit('enquire_link_resp', { peer,
					    status: r.command_status }));
					continue;
				}
				bound.delete(s);
				s.unbind({}, (r) => {
					emit('unbind_resp', { peer,
					    status: r.command_status });
					s.close();
				});
			}
			return 'ok ' + n;
		}
		if (w[0] === 'stats')
			return 'ok binds=' + stats.binds + ' bound=' +
			    bound.size + ' submits=' + stats.submits +
			    ' delivers=' + stats.delivers + ' resps=' +
			    stats.resps;
		return 'err usage: mo FROM TO TEXT | enquire | unbind | stats';
	}

	const stop = () => {
		emit('stopping');
		process.exit(0);
	};
	process.on('SIGTERM', stop);
	process.on('SIGINT', stop);
}

const args = parseArgs(process.argv.slice(2));
const mode = args._[0];
if (args._.length !== 1)
	die('unexpected arguments: ' + args._.slice(1).join(' '));
if (!args.port)
	die('usage: npm_peer.js client|smsc --port P ...');
if (mode === 'client')
	runClient(args);
else if (mode === 'smsc')
	runSmsc(args);
else
	die('unknown mode ' + mode);
