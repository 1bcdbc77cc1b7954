#!/usr/bin/env bash
# Regenerates the IVR prompts (run once; the output is committed as data).
# Needs espeak-ng and sox (Debian packages of the same names). Each prompt
# is written as raw G.711 μ-law, 8 kHz mono (.ul): half the size of 16-bit
# PCM and exactly what a PCMU call sends; PCMA calls transcode on the fly.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

say() { # lang name text
	mkdir -p "$1"
	espeak-ng -v "$1" -s 150 -w "$tmp/x.wav" "$3"
	# Trim leading/trailing silence; a short tail keeps words from being clipped.
	sox "$tmp/x.wav" -r 8000 -c 1 -t ul "$1/$2.ul" silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse pad 0 0.2
}

say en welcome "Welcome. Please enter the conference PIN, followed by the hash key."
say en wrongpin "That PIN is not valid. Please try again."
say en joined "You are now in the conference. Press zero to mute or unmute yourself."
say en muted "You are muted."
say en unmuted "You are unmuted."
say en ended "The conference has ended. Goodbye."
say en wait "The conference has not started yet. Please wait for the moderator."
say en goodbye "Too many attempts. Goodbye."

say de welcome "Willkommen. Bitte geben Sie die Konferenz-PIN ein, gefolgt von der Rautetaste."
say de wrongpin "Diese PIN ist ungültig. Bitte versuchen Sie es erneut."
say de joined "Sie sind jetzt in der Konferenz. Mit der Taste null schalten Sie sich stumm oder wieder laut."
say de muted "Sie sind stumm geschaltet."
say de unmuted "Ihr Mikrofon ist wieder eingeschaltet."
say de ended "Die Konferenz ist beendet. Auf Wiederhören."
say de wait "Die Konferenz hat noch nicht begonnen. Bitte warten Sie auf die Moderation."
say de goodbye "Zu viele Versuche. Auf Wiederhören."
