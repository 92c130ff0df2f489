#!/bin/bash
# packages = audit


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%" /usr/lib/systemd/system/auditd.service
  
  

path=/etc/sudoers.d/
style=modern
filter_type=dir
. $SHARED/audit_rules_watch/auditctl_remove_all_rules.fail.sh
