#!/bin/bash
# packages = audit
# platform = multi_platform_rhel
# variables = var_accounts_passwords_pam_faillock_dir=/var/run/faillock


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%" /usr/lib/systemd/system/auditd.service
  
  

path="/var/run/faillock"
style="modern"
filter_type="path"
. $SHARED/audit_rules_watch/auditctl_correct_extra_permission.pass.sh
