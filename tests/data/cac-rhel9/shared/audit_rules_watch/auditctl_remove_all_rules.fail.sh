#!/bin/bash
# packages = audit

rm -f /etc/audit/audit.rules
