#!/bin/bash
# packages = audit


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/augenrules%" /usr/lib/systemd/system/auditd.service
  
  

path=/etc/passwd
style=modern
filter_type=path
. $SHARED/audit_rules_watch/augenrules_correct.pass.sh
