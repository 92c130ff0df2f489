#!/bin/bash
# packages = audit


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%" /usr/lib/systemd/system/auditd.service
  
  

path=/var/log/wtmp
style=modern
filter_type=path
. $SHARED/audit_rules_watch/auditctl_correct_extra_permission.pass.sh
