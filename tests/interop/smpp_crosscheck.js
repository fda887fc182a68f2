#!/usr/bin/env node
/*
 * The npm "smpp" package's side of test_npm_smpp.py.
 *
 *	node smpp_crosscheck.js encode	one JSON line per sample PDU the
 *					package encodes: {name, hex, pdu,
 *					tlvs} where pdu is the PDU object as
 *					the package left it after toBuffer()
 *					(what it meant to send) and tlvs the
 *					TLVs it wrote, in order
 *	node smpp_crosscheck.js decode	read hex PDUs from stdin, one a
 *					line; print the package's decode of
 *					each as one JSON line
 *	node smpp_crosscheck.js defs	the package's commands and TLV
 *					definitions (tag, name, type)
 *
 * Buffers print as {"hex": ...}, Dates as {"date": ISO-8601}.
 */
'use strict';

const smpp = require('smpp');
const defs = require('smpp/lib/defs');

/* Every command the package knows, with distinctive field values. */
function samples() {
	const seq = (i) => 0x21430000 + i * 0x00010203;
	const sm = (s) => Buffer.from(s, 'latin1');
	const out = [];
	const add = (name, command, options) => {
		options.sequence_number = seq(out.length);
		out.push({ name, command, options });
	};

	add('bind_transmitter', 'bind_transmitter', {
		system_id: 'npm-esme', password: 'npmpw01',
		system_type: 'NPMTYPE', interface_version: 0x34,
		addr_ton: 1, addr_npi: 1, address_range: '1555*',
	});
	add('bind_transmitter_resp', 'bind_transmitter_resp', {
		system_id: 'npm-smsc', sc_interface_version: 0x34,
	});
	add('bind_transmitter_resp (failed)', 'bind_transmitter_resp', {
		command_status: defs.errors.ESME_RINVPASWD,
	});
	add('bind_receiver', 'bind_receiver', {
		system_id: 'rx-client', password: 'rxpw', system_type: '',
		interface_version: 0x33, addr_ton: 2, addr_npi: 8,
		address_range: '',
	});
	add('bind_receiver_resp', 'bind_receiver_resp', {
		system_id: 'SMSC-RX-npm',
	});
	add('bind_transceiver', 'bind_transceiver', {
		/* Maximum lengths, §4.1.5. */
		system_id: 'abcdefghijklmno', password: '12345678',
		system_type: 'ABCDEFGHIJKL', interface_version: 0x34,
		addr_ton: 6, addr_npi: 9,
		address_range: '0987654321098765432109876543210987654321',
	});
	add('bind_transceiver_resp', 'bind_transceiver_resp', {
		system_id: 'TRX',
	});
	add('outbind', 'outbind', { system_id: 'smsc-ob', password: 'obpass' });
	add('unbind', 'unbind', {});
	add('unbind_resp', 'unbind_resp', {});
	add('generic_nack', 'generic_nack', {
		command_status: defs.errors.ESME_RINVCMDLEN,
	});
	add('submit_sm', 'submit_sm', {
		service_type: 'CMT', source_addr_ton: 5, source_addr_npi: 0,
		source_addr: 'NpmSender', dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '15551112222', esm_class: 0x03,
		protocol_id: 0x40, priority_flag: 1,
		schedule_delivery_time: '251224153045208+',
		validity_period: '000002030405000R',
		registered_delivery: 0x01, replace_if_present_flag: 1,
		data_coding: 0x03, sm_default_msg_id: 7,
		short_message: sm('Caf\u00e9 npm 2025'),
		user_message_reference: 0x5678, source_port: 0x1F90,
		dest_port: 0x1F91, sar_msg_ref_num: 0xA5A5,
		sar_total_segments: 4, sar_segment_seqnum: 3,
		language_indicator: 2, privacy_indicator: 1,
		callback_num_pres_ind: [0x01],
		dest_addr_subunit: 3, payload_type: 1,
		qos_time_to_live: 0x01020304, ms_validity: sm('\u0002'),
	});
	add('submit_sm (message_payload)', 'submit_sm', {
		source_addr: '2775', destination_addr: '15553334444',
		data_coding: 0x04, short_message: Buffer.alloc(0),
		message_payload: Buffer.from(
		    Array.from({ length: 400 }, (_, i) => (i * 31) & 0xff)),
	});
	add('submit_sm (UDH)', 'submit_sm', {
		source_addr: '2775', destination_addr: '15553334444',
		data_coding: 0x00,
		/* The package sets UDHI in esm_class itself. */
		short_message: { udh: Buffer.from('050003170201', 'hex'),
		    message: 'Hello part one' },
	});
	add('submit_sm (254-octet short_message)', 'submit_sm', {
		source_addr: '2775', destination_addr: '15553334444',
		data_coding: 0x04, esm_class: 0,
		/* §5.2.22: the largest short_message. */
		short_message: Buffer.from(
		    Array.from({ length: 254 }, (_, i) => 255 - i)),
	});
	add('submit_sm_resp', 'submit_sm_resp', {
		message_id: 'npm-msg-0001',
	});
	add('submit_sm_resp (opted out)', 'submit_sm_resp', {
		command_status: 0x401,
	});
	add('submit_multi', 'submit_multi', {
		service_type: 'USSD', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '15550009999',
		dest_address: [
			{ dest_addr_ton: 1, dest_addr_npi: 1,
			    destination_addr: '15550000001' },
			{ dl_name: 'npm-dl' },
			{ dest_addr_ton: 2, dest_addr_npi: 8,
			    destination_addr: '5550000003' },
			{ dl_name: 'second-dl' },
		],
		esm_class: 0x02, protocol_id: 1, priority_flag: 2,
		schedule_delivery_time: '', validity_period: '251231235959000+',
		registered_delivery: 0x11, replace_if_present_flag: 0,
		data_coding: 0x08, sm_default_msg_id: 1,
		short_message: Buffer.from('0048006900202615', 'hex'),
		user_message_reference: 0x0102, source_port: 0x0B84,
	});
	add('submit_multi_resp', 'submit_multi_resp', {
		message_id: 'npm-multi-7',
		unsuccess_sme: [
			{ dest_addr_ton: 1, dest_addr_npi: 1,
			    destination_addr: '15550000001',
			    error_status_code: 0x0B },
			{ dest_addr_ton: 2, dest_addr_npi: 8,
			    destination_addr: '5550000003',
			    error_status_code: 0x401 },
		],
	});
	add('deliver_sm', 'deliver_sm', {
		source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '15551112222', dest_addr_ton: 0, dest_addr_npi: 1,
		destination_addr: '2775', esm_class: 0, data_coding: 0,
		short_message: sm('STOP'),
		source_network_type: 1, dest_bearer_type: 1,
	});
	add('deliver_sm (receipt)', 'deliver_sm', {
		source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '15551112222', dest_addr_ton: 5,
		destination_addr: 'NpmSender', esm_class: 0x04,
		data_coding: 0, short_message: sm('id:npm-msg-0001 sub:001 ' +
		    'dlvrd:001 submit date:2512241530 done date:2512241531 ' +
		    'stat:DELIVRD err:000 text:Caf'),
		receipted_message_id: 'npm-msg-0001', message_state: 2,
		network_error_code: Buffer.from('030001', 'hex'),
	});
	add('deliver_sm_resp', 'deliver_sm_resp', { message_id: '' });
	add('data_sm', 'data_sm', {
		service_type: 'WAP', source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '15551112222', dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '15553334444', esm_class: 0x01,
		registered_delivery: 0x01, data_coding: 0x04,
		message_payload: Buffer.from('0102030405060708090a', 'hex'),
		more_messages_to_send: 1, source_port: 0x4E21,
		dest_port: 0x4E22, its_reply_type: 1,
		its_session_info: Buffer.from('0a01', 'hex'),
		ussd_service_op: 0x11,
	});
	add('data_sm (more TLVs)', 'data_sm', {
		service_type: 'ITS', source_addr: '5551239876',
		destination_addr: '15550004444', esm_class: 0x02,
		registered_delivery: 0x10, data_coding: 0,
		source_addr_subunit: 1, source_bearer_type: 3,
		/* 2 octets as the package writes it (§5.3.2.9). */
		source_telematics_id: 0x0102, dest_network_type: 2,
		dest_telematics_id: 0x0304, set_dpf: 1,
		callback_num: [{ digit_mode: 0, ton: 1, npi: 1,
		    number: '15550001234' }],
		callback_num_pres_ind: [0x05],
		callback_num_atag: [{ encoding: 0, display: 'Acme' }],
		source_subaddress: Buffer.from('80123456', 'hex'),
		dest_subaddress: Buffer.from('a00102', 'hex'),
		user_response_code: 0x2A, display_time: 2,
		sms_signal: 0x0102, ms_validity: Buffer.from('03', 'hex'),
		ms_msg_wait_facilities: 0x81, number_of_messages: 9,
		qos_time_to_live: 3600, payload_type: 0,
		receipted_message_id: 'rcpt-1', message_state: 6,
		network_error_code: Buffer.from('010203', 'hex'),
		user_message_reference: 7, privacy_indicator: 3,
		sar_msg_ref_num: 0x0101, sar_total_segments: 2,
		sar_segment_seqnum: 1, language_indicator: 5,
		/* SMPP v5.0 TLVs: unknown to v3.4, passed through as bytes. */
		congestion_state: 50,
		billing_identification: { format: 1,
		    data: Buffer.from('abcd', 'hex') },
		source_network_id: 'net-1',
	});
	add('data_sm_resp', 'data_sm_resp', {
		message_id: 'npm-data-9', delivery_failure_reason: 1,
		additional_status_info_text: 'queued', dpf_result: 0,
	});
	add('query_sm', 'query_sm', {
		message_id: 'npm-msg-0001', source_addr_ton: 1,
		source_addr_npi: 1, source_addr: '15550009999',
	});
	add('query_sm_resp', 'query_sm_resp', {
		message_id: 'npm-msg-0001', final_date: '260102123456712-',
		message_state: 5, error_code: 0x45,
	});
	add('cancel_sm', 'cancel_sm', {
		service_type: 'CMT', message_id: 'npm-msg-0002',
		source_addr_ton: 1, source_addr_npi: 1,
		source_addr: '15550009999', dest_addr_ton: 1, dest_addr_npi: 1,
		destination_addr: '15551112222',
	});
	add('cancel_sm_resp', 'cancel_sm_resp', {});
	add('replace_sm', 'replace_sm', {
		message_id: 'npm-msg-0003', source_addr_ton: 1,
		source_addr_npi: 1, source_addr: '15550009999',
		schedule_delivery_time: '251225000000000+',
		validity_period: '', registered_delivery: 0x01,
		sm_default_msg_id: 2, short_message: sm('New text'),
	});
	add('replace_sm_resp', 'replace_sm_resp', {});
	add('enquire_link', 'enquire_link', {});
	add('enquire_link_resp', 'enquire_link_resp', {});
	add('alert_notification', 'alert_notification', {
		source_addr_ton: 1, source_addr_npi: 1,
		/* §4.12.1: 64-character addresses. */
		source_addr: '1'.repeat(32) + '2'.repeat(32),
		esme_addr_ton: 2, esme_addr_npi: 8,
		esme_addr: '5'.repeat(63) + '4', ms_availability_status: 2,
	});
	/* SMPP v5.0 commands: not in v3.4; our codec must refuse them. */
	add('broadcast_sm', 'broadcast_sm', {
		message_id: 'b1', source_addr: '2775', data_coding: 0,
	});
	add('broadcast_sm_resp', 'broadcast_sm_resp', { message_id: 'b1' });
	add('query_broadcast_sm', 'query_broadcast_sm', {
		message_id: 'b1', source_addr: '2775',
	});
	add('query_broadcast_sm_resp', 'query_broadcast_sm_resp', {
		message_id: 'b1',
	});
	add('cancel_broadcast_sm', 'cancel_broadcast_sm', {
		message_id: 'b1', source_addr: '2775',
	});
	add('cancel_broadcast_sm_resp', 'cancel_broadcast_sm_resp', {});
	/* alert_on_message_delivery as the package writes it: one octet
	 * (SMPP v5.0 §4.8.4.1); SMPP v3.4 §5.3.2.41 gives it no value. */
	add('submit_sm (alert_on_msg_delivery)', 'submit_sm', {
		source_addr: '2775', destination_addr: '15553334444',
		data_coding: 0, short_message: sm('x'),
		alert_on_msg_delivery: 1,
	});
	return out;
}

/* JSON-friendly copy: Buffers as {hex}, Dates as {date}. */
function plain(v) {
	if (Buffer.isBuffer(v))
		return { hex: v.toString('hex') };
	if (v instanceof Date)
		return { date: isNaN(v.getTime()) ? 'invalid' :
		    v.toISOString() };
	if (Array.isArray(v))
		return v.map(plain);
	if (v !== null && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v))
			o[k] = plain(v[k]);
		return o;
	}
	return v;
}

/* The TLVs toBuffer() wrote, in its order, with the bytes it wrote. */
function tlvsOf(pdu) {
	const params = defs.commands[pdu.command].params || {};
	const out = [];
	if (pdu.command_status)
		return out;	/* toBuffer() writes the header only */
	for (const key in pdu) {
		if (!(key in defs.tlvs) || key in params)
			continue;
		const t = defs.tlvs[key];
		const values = t.multiple ? pdu[key] : [pdu[key]];
		for (const v of values) {
			const b = Buffer.alloc(t.type.size(v));
			t.type.write(v, b, 0);
			out.push({ tag: t.id, name: t.tag,
			    value: b.toString('hex') });
		}
	}
	return out;
}

function encode() {
	for (const s of samples()) {
		const pdu = new smpp.PDU(s.command, s.options);
		const buf = pdu.toBuffer();
		const o = plain(pdu);
		delete o.command_length;	/* set from buf below */
		process.stdout.write(JSON.stringify({
			name: s.name, hex: buf.toString('hex'),
			command_length: buf.length, pdu: o, tlvs: tlvsOf(pdu),
		}) + '\n');
	}
}

function decode() {
	const lines = require('fs').readFileSync(0, 'latin1').split('\n');
	let n = 0;
	for (const line of lines) {
		const hex = line.trim();
		if (hex === '')
			continue;
		let out;
		try {
			const pdu = new smpp.PDU(Buffer.from(hex, 'hex'));
			out = { input: n, pdu: plain(pdu) };
		} catch (e) {
			out = { input: n, error: String(e) };
		}
		process.stdout.write(JSON.stringify(out) + '\n');
		n++;
	}
}

function defsOut() {
	const tname = (t) => Object.keys(defs.types.tlv).find(
	    (k) => defs.types.tlv[k] === t) || 'other';
	const tlvs = {};
	for (const id of Object.keys(defs.tlvsById)) {
		const t = defs.tlvsById[id];
		tlvs[id] = { name: t.tag, type: tname(t.type),
		    multiple: !!t.multiple, filter: !!t.filter };
	}
	const commands = {};
	for (const name of Object.keys(defs.commands)) {
		const c = defs.commands[name];
		commands[name] = { id: c.id,
		    params: Object.keys(c.params || {}) };
	}
	process.stdout.write(JSON.stringify({ commands, tlvs }) + '\n');
}

const mode = process.argv[2];
if (mode === 'encode')
	encode();
else if (mode === 'decode')
	decode();
else if (mode === 'defs')
	defsOut();
else {
	process.stderr.write('usage: smpp_crosscheck.js encode|decode|defs\n');
	process.exit(1);
}
