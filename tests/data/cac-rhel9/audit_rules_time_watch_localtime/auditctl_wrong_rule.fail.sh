#!/bin/bash
# packages = audit


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%" /usr/lib/systemd/system/auditd.service
  
  

path=/etc/localtime
style=modern
filter_type=path
. $SHARED/audit_rules_watch/auditctl_wrong_rule.fail.sh
