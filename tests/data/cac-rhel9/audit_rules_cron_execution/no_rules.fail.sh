#!/bin/bash
# packages = audit
# platform = multi_platform_rhel

rm -f /etc/audit/rules.d/cron_exec.rules
