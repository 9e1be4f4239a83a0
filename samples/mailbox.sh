#!/usr/bin/env bash
# The sample mailbox: messages are written as .eml files into ./outbox next to the database.
seqbridge mailbox add outreach --from "Maya at Brightside <maya@brightside.example>" --transport file://outbox
