#!/usr/bin/env bash
# The sample mailbox and sequences, in the database named by SEQBRIDGE_DATABASE (default ./seqbridge.sqlite).
# The mailbox writes each message as an .eml file into ./outbox beside the database.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seqbridge="${SEQBRIDGE:-$here/../.build/debug/seqbridge}"
"$seqbridge" mailbox add outreach --from "Maya at Brightside <maya@brightside.example>" --transport file://outbox
"$seqbridge" sequence apply "$here/summer-launch.yaml"
"$seqbridge" sequence apply "$here/quick-hello.yaml"
"$seqbridge" import "$here/influencers.csv" --sequence summer-launch
