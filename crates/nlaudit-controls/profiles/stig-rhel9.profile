# DISA STIG for Red Hat Enterprise Linux 9, V2R9: the audit-rule requirements
# (RHEL-09-654010 ... RHEL-09-654275), nlaudit profile format (docs/profiles.md).
# Rules: the STIG fix text, one requirement per ComplianceAsCode rule (CaC b3a2cca9,
# products/rhel9/controls/stig_rhel9.yml), with two corrections where the fix text
# contradicts its own check text and CaC: RHEL-09-654220 audits the tree
# `-F dir=/etc/sudoers.d/` (the fix writes `path=`, a watch on the directory inode only) and
# RHEL-09-654235 audits /etc/security/opasswd (the fix says /etc/opasswd). Keys are the
# STIG's; any key satisfies a requirement. -e 2, -f 2 and --loginuid-immutable are persisted
# and take effect at boot (nlaudit never sets them live). $UID_MIN: /etc/login.defs (the STIG
# writes 1000).
profile stig-rhel9
title DISA STIG Red Hat Enterprise Linux 9 V2R9, audit rules
source DISA RHEL 9 STIG V2R9 (Benchmark Date 01 Jul 2026)

control RHEL-09-654010
title RHEL 9 must audit uses of the execve system call (V-258176)
rule cac=audit_rules_suid_privilege_function -a always,exit -F arch=$ARCH -S execve -C uid!=euid -F euid=0 -k execpriv
rule cac=audit_rules_suid_privilege_function -a always,exit -F arch=$ARCH -S execve -C gid!=egid -F egid=0 -k execpriv

control RHEL-09-654015
title RHEL 9 must audit all uses of the chmod, fchmod, and fchmodat system calls (V-258177)
rule cac=audit_rules_dac_modification_chmod -a always,exit -F arch=$ARCH -S chmod -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchmod -a always,exit -F arch=$ARCH -S fchmod -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchmodat -a always,exit -F arch=$ARCH -S fchmodat -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control RHEL-09-654020
title RHEL 9 must audit all uses of the chown, fchown, fchownat, and lchown system calls (V-258178)
rule cac=audit_rules_dac_modification_chown -a always,exit -F arch=$ARCH -S chown -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchown -a always,exit -F arch=$ARCH -S fchown -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchownat -a always,exit -F arch=$ARCH -S fchownat -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lchown -a always,exit -F arch=$ARCH -S lchown -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control RHEL-09-654025
title RHEL 9 must audit all uses of the setxattr, fsetxattr, lsetxattr, removexattr, fremovexattr, and lremovexattr system calls (V-258179)
rule cac=audit_rules_dac_modification_setxattr -a always,exit -F arch=$ARCH -S setxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fsetxattr -a always,exit -F arch=$ARCH -S fsetxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lsetxattr -a always,exit -F arch=$ARCH -S lsetxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_removexattr -a always,exit -F arch=$ARCH -S removexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fremovexattr -a always,exit -F arch=$ARCH -S fremovexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lremovexattr -a always,exit -F arch=$ARCH -S lremovexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_setxattr -a always,exit -F arch=$ARCH -S setxattr -F auid=0 -k perm_mod
rule cac=audit_rules_dac_modification_fsetxattr -a always,exit -F arch=$ARCH -S fsetxattr -F auid=0 -k perm_mod
rule cac=audit_rules_dac_modification_lsetxattr -a always,exit -F arch=$ARCH -S lsetxattr -F auid=0 -k perm_mod
rule cac=audit_rules_dac_modification_removexattr -a always,exit -F arch=$ARCH -S removexattr -F auid=0 -k perm_mod
rule cac=audit_rules_dac_modification_fremovexattr -a always,exit -F arch=$ARCH -S fremovexattr -F auid=0 -k perm_mod
rule cac=audit_rules_dac_modification_lremovexattr -a always,exit -F arch=$ARCH -S lremovexattr -F auid=0 -k perm_mod

control RHEL-09-654030
title RHEL 9 must audit all uses of the umount command (V-258180)
rule cac=audit_rules_privileged_commands_umount -a always,exit -F path=/usr/bin/umount -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-mount

control RHEL-09-654035
title RHEL 9 must audit all uses of the chacl command (V-258181)
rule cac=audit_rules_execution_chacl -a always,exit -F path=/usr/bin/chacl -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control RHEL-09-654040
title RHEL 9 must audit all uses of the setfacl command (V-258182)
rule cac=audit_rules_execution_setfacl -a always,exit -F path=/usr/bin/setfacl -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control RHEL-09-654045
title RHEL 9 must audit all uses of the chcon command (V-258183)
rule cac=audit_rules_execution_chcon -a always,exit -F path=/usr/bin/chcon -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control RHEL-09-654050
title RHEL 9 must audit all uses of the semanage command (V-258184)
rule cac=audit_rules_execution_semanage -a always,exit -F path=/usr/sbin/semanage -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654055
title RHEL 9 must audit all uses of the setfiles command (V-258185)
rule cac=audit_rules_execution_setfiles -a always,exit -F path=/usr/sbin/setfiles -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654060
title RHEL 9 must audit all uses of the setsebool command (V-258186)
rule cac=audit_rules_execution_setsebool -a always,exit -F path=/usr/sbin/setsebool -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged

control RHEL-09-654065
title RHEL 9 must audit all uses of the rename, unlink, rmdir, renameat, and unlinkat system calls (V-258187)
rule cac=audit_rules_file_deletion_events_rename -a always,exit -F arch=$ARCH -S rename -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_unlink -a always,exit -F arch=$ARCH -S unlink -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_rmdir -a always,exit -F arch=$ARCH -S rmdir -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_renameat -a always,exit -F arch=$ARCH -S renameat -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_unlinkat -a always,exit -F arch=$ARCH -S unlinkat -F auid>=$UID_MIN -F auid!=unset -k delete

control RHEL-09-654070
title RHEL 9 must audit all uses of the truncate, ftruncate, creat, open, openat, and open_by_handle_at system calls (V-258188)
rule cac=audit_rules_unsuccessful_file_modification_truncate -a always,exit -F arch=$ARCH -S truncate -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_ftruncate -a always,exit -F arch=$ARCH -S ftruncate -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_creat -a always,exit -F arch=$ARCH -S creat -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_open -a always,exit -F arch=$ARCH -S open -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_openat -a always,exit -F arch=$ARCH -S openat -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_open_by_handle_at -a always,exit -F arch=$ARCH -S open_by_handle_at -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_truncate -a always,exit -F arch=$ARCH -S truncate -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_ftruncate -a always,exit -F arch=$ARCH -S ftruncate -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_creat -a always,exit -F arch=$ARCH -S creat -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_open -a always,exit -F arch=$ARCH -S open -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_openat -a always,exit -F arch=$ARCH -S openat -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access
rule cac=audit_rules_unsuccessful_file_modification_open_by_handle_at -a always,exit -F arch=$ARCH -S open_by_handle_at -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k perm_access

control RHEL-09-654075
title RHEL 9 must audit all uses of the delete_module system call (V-258189)
rule cac=audit_rules_kernel_module_loading_delete -a always,exit -F arch=$ARCH -S delete_module -F auid>=$UID_MIN -F auid!=unset -k module_chng

control RHEL-09-654080
title RHEL 9 must audit all uses of the init_module and finit_module system calls (V-258190)
rule cac=audit_rules_kernel_module_loading_init -a always,exit -F arch=$ARCH -S init_module -F auid>=$UID_MIN -F auid!=unset -k module_chng
rule cac=audit_rules_kernel_module_loading_finit -a always,exit -F arch=$ARCH -S finit_module -F auid>=$UID_MIN -F auid!=unset -k module_chng

control RHEL-09-654085
title RHEL 9 must audit all uses of the chage command (V-258191)
rule cac=audit_rules_privileged_commands_chage -a always,exit -F path=/usr/bin/chage -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-chage

control RHEL-09-654090
title RHEL 9 must audit all uses of the chsh command (V-258192)
rule cac=audit_rules_privileged_commands_chsh -a always,exit -F path=/usr/bin/chsh -F perm=x -F auid>=$UID_MIN -F auid!=unset -k priv_cmd

control RHEL-09-654095
title RHEL 9 must audit all uses of the crontab command (V-258193)
rule cac=audit_rules_privileged_commands_crontab -a always,exit -F path=/usr/bin/crontab -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-crontab

control RHEL-09-654097
title RHEL 9 must audit programs executed by cron (V-279936)
rule cac=audit_rules_cron_execution -a always,exit -F arch=$ARCH -S execve -F subj_type=crond_t -F euid=0 -k cron_exec
rule cac=audit_rules_cron_execution -a always,exit -F arch=$ARCH -S execve -F subj_type=crond_t -F auid>=$UID_MIN -F auid!=unset -k cron_exec

control RHEL-09-654100
title RHEL 9 must audit all uses of the gpasswd command (V-258194)
rule cac=audit_rules_privileged_commands_gpasswd -a always,exit -F path=/usr/bin/gpasswd -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-gpasswd

control RHEL-09-654105
title RHEL 9 must audit all uses of the kmod command (V-258195)
rule cac=audit_rules_privileged_commands_kmod -a always,exit -F path=/usr/bin/kmod -F perm=x -F auid>=$UID_MIN -F auid!=unset -k modules

control RHEL-09-654110
title RHEL 9 must audit all uses of the newgrp command (V-258196)
rule cac=audit_rules_privileged_commands_newgrp -a always,exit -F path=/usr/bin/newgrp -F perm=x -F auid>=$UID_MIN -F auid!=unset -k priv_cmd

control RHEL-09-654115
title RHEL 9 must audit all uses of the pam_timestamp_check command (V-258197)
rule cac=audit_rules_privileged_commands_pam_timestamp_check -a always,exit -F path=/usr/sbin/pam_timestamp_check -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-pam_timestamp_check

control RHEL-09-654120
title RHEL 9 must audit all uses of the passwd command (V-258198)
rule cac=audit_rules_privileged_commands_passwd -a always,exit -F path=/usr/bin/passwd -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-passwd

control RHEL-09-654125
title RHEL 9 must audit all uses of the postdrop command (V-258199)
rule cac=audit_rules_privileged_commands_postdrop -a always,exit -F path=/usr/sbin/postdrop -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654130
title RHEL 9 must audit all uses of the postqueue command (V-258200)
rule cac=audit_rules_privileged_commands_postqueue -a always,exit -F path=/usr/sbin/postqueue -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654135
title RHEL 9 must audit all uses of the ssh-agent command (V-258201)
rule cac=audit_rules_privileged_commands_ssh_agent -a always,exit -F path=/usr/bin/ssh-agent -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-ssh

control RHEL-09-654140
title RHEL 9 must audit all uses of the ssh-keysign command (V-258202)
rule cac=audit_rules_privileged_commands_ssh_keysign -a always,exit -F path=/usr/libexec/openssh/ssh-keysign -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-ssh

control RHEL-09-654145
title RHEL 9 must audit all uses of the su command (V-258203)
rule cac=audit_rules_privileged_commands_su -a always,exit -F path=/usr/bin/su -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-priv_change

control RHEL-09-654150
title RHEL 9 must audit all uses of the sudo command (V-258204)
rule cac=audit_rules_privileged_commands_sudo -a always,exit -F path=/usr/bin/sudo -F perm=x -F auid>=$UID_MIN -F auid!=unset -k priv_cmd

control RHEL-09-654155
title RHEL 9 must audit all uses of the sudoedit command (V-258205)
rule cac=audit_rules_privileged_commands_sudoedit -a always,exit -F path=/usr/bin/sudoedit -F perm=x -F auid>=$UID_MIN -F auid!=unset -k priv_cmd

control RHEL-09-654160
title RHEL 9 must audit all uses of the unix_chkpwd command (V-258206)
rule cac=audit_rules_privileged_commands_unix_chkpwd -a always,exit -F path=/usr/sbin/unix_chkpwd -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654165
title RHEL 9 must audit all uses of the unix_update command (V-258207)
rule cac=audit_rules_privileged_commands_unix_update -a always,exit -F path=/usr/sbin/unix_update -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654170
title RHEL 9 must audit all uses of the userhelper command (V-258208)
rule cac=audit_rules_privileged_commands_userhelper -a always,exit -F path=/usr/sbin/userhelper -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-unix-update

control RHEL-09-654175
title RHEL 9 must audit all uses of the usermod command (V-258209)
rule cac=audit_rules_privileged_commands_usermod -a always,exit -F path=/usr/sbin/usermod -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-usermod

control RHEL-09-654180
title RHEL 9 must audit all uses of the mount command (V-258210)
rule cac=audit_rules_privileged_commands_mount -a always,exit -F path=/usr/bin/mount -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-mount

control RHEL-09-654185
title RHEL 9 must audit all uses of the init command (V-258211)
rule cac=audit_privileged_commands_init -a always,exit -F path=/usr/sbin/init -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-init

control RHEL-09-654190
title RHEL 9 must audit all uses of the poweroff command (V-258212)
rule cac=audit_privileged_commands_poweroff -a always,exit -F path=/usr/sbin/poweroff -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-poweroff

control RHEL-09-654195
title RHEL 9 must audit all uses of the reboot command (V-258213)
rule cac=audit_privileged_commands_reboot -a always,exit -F path=/usr/sbin/reboot -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-reboot

control RHEL-09-654200
title RHEL 9 must audit all uses of the shutdown command (V-258214)
rule cac=audit_privileged_commands_shutdown -a always,exit -F path=/usr/sbin/shutdown -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged-shutdown

control RHEL-09-654205
title RHEL 9 must audit all uses of the umount system call (V-258215)
rule cac=audit_rules_dac_modification_umount -a always,exit -F arch=$ARCH -S umount -F auid>=$UID_MIN -F auid!=unset -k privileged-umount

control RHEL-09-654210
title RHEL 9 must audit all uses of the umount2 system call (V-258216)
rule cac=audit_rules_dac_modification_umount2 -a always,exit -F arch=$ARCH -S umount2 -F auid>=$UID_MIN -F auid!=unset -k privileged-umount

control RHEL-09-654215
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/sudoers (V-258217)
rule cac=audit_rules_sudoers -a always,exit -F arch=$ARCH -F path=/etc/sudoers -F perm=wa -k identity

control RHEL-09-654220
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/sudoers.d/ (V-258218)
rule cac=audit_rules_sudoers_d -a always,exit -F arch=$ARCH -F dir=/etc/sudoers.d/ -F perm=wa -k identity

control RHEL-09-654225
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/group (V-258219)
rule cac=audit_rules_usergroup_modification_group -a always,exit -F arch=$ARCH -F path=/etc/group -F perm=wa -k identity

control RHEL-09-654230
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/gshadow (V-258220)
rule cac=audit_rules_usergroup_modification_gshadow -a always,exit -F arch=$ARCH -F path=/etc/gshadow -F perm=wa -k identity

control RHEL-09-654235
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/security/opasswd (V-258221)
rule cac=audit_rules_usergroup_modification_opasswd -a always,exit -F arch=$ARCH -F path=/etc/security/opasswd -F perm=wa -k identity

control RHEL-09-654240
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/passwd (V-258222)
rule cac=audit_rules_usergroup_modification_passwd -a always,exit -F arch=$ARCH -F path=/etc/passwd -F perm=wa -k identity

control RHEL-09-654245
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /etc/shadow (V-258223)
rule cac=audit_rules_usergroup_modification_shadow -a always,exit -F arch=$ARCH -F path=/etc/shadow -F perm=wa -k identity

control RHEL-09-654250
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /var/log/faillock (V-258224)
rule cac=audit_rules_login_events_faillock -a always,exit -F arch=$ARCH -F path=/var/log/faillock -F perm=wa -F auid>=$UID_MIN -F auid!=unset -k logins

control RHEL-09-654255
title RHEL 9 must generate audit records for all account creations, modifications, disabling, and termination events that affect /var/log/lastlog (V-258225)
rule cac=audit_rules_login_events_lastlog -a always,exit -F arch=$ARCH -F path=/var/log/lastlog -F perm=wa -F auid>=$UID_MIN -F auid!=unset -k logins

control RHEL-09-654265
title RHEL 9 must take appropriate action when a critical audit processing failure occurs (V-258227)
rule cac=audit_rules_system_shutdown -f 2

control RHEL-09-654270
title RHEL 9 audit system must protect logon UIDs from unauthorized change (V-258228)
rule cac=audit_rules_immutable_login_uids --loginuid-immutable

control RHEL-09-654275
title RHEL 9 audit system must protect auditing rules from unauthorized change (V-258229)
rule cac=audit_rules_immutable -e 2
