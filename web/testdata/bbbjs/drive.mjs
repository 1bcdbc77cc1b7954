// Drives Aula's BigBlueButton API with the real npm client bigbluebutton-js
// (a third-party BBB client) and prints what it saw as one JSON object.
// Usage: node drive.mjs <base URL, e.g. http://127.0.0.1:8080/bigbluebutton/> <secret>
import bbb from 'bigbluebutton-js';

const [base, secret] = process.argv.slice(2);
if (!base || !secret) {
  console.error('usage: node drive.mjs <base URL> <secret>');
  process.exit(2);
}

const api = bbb.api(base, secret);
const http = bbb.http;
const out = {};
const meetingID = 'bbbjs room ' + Date.now();

out.create = await http(api.administration.create('Kurs mit Leerzeichen & Umlauten ä', meetingID, {
  attendeePW: 'secret-ap',
  moderatorPW: 'secret-mp',
  record: true,
  duration: 45,
  'meta_bbb-origin': 'bigbluebutton-js',
}));
out.duplicate = await http(api.administration.create('Kurs mit Leerzeichen & Umlauten ä', meetingID, {
  attendeePW: 'secret-ap',
  moderatorPW: 'secret-mp',
}));
out.join = await http(api.administration.join('Frau Müller', meetingID, 'secret-mp', {
  redirect: false,
  userID: 'lms-17',
}));
// The join URL with redirect (default): the client follows it into Aula.
out.joinURL = api.administration.join('Herr Schmidt', meetingID, 'secret-ap');
out.info = await http(api.monitoring.getMeetingInfo(meetingID));
out.running = await http(api.monitoring.isMeetingRunning(meetingID));
out.meetings = await http(api.monitoring.getMeetings());
// The one-time client URL of the redirect=false join, as a browser opens it.
const redeem = await fetch(out.join.url, { redirect: 'manual' });
out.redeem = { status: redeem.status, location: redeem.headers.get('location'), cookie: redeem.headers.get('set-cookie') };
out.end = await http(api.administration.end(meetingID, 'secret-mp'));
out.infoAfterEnd = await http(api.monitoring.getMeetingInfo(meetingID));
out.runningAfterEnd = await http(api.monitoring.isMeetingRunning(meetingID));
out.meetingID = meetingID;
console.log(JSON.stringify(out));
