# CIS Linux benchmarks: the audit-rule controls (auditd rules), nlaudit profile format
# (docs/profiles.md). Numbering: CIS Red Hat Enterprise Linux 9 v2.0.0 (6.3.3.x); the
# `debian` variant is CIS Debian 12 v1.1.0 / Ubuntu 24.04 v1.0.0 (6.2.3.x) and selects the
# Debian/Ubuntu rules where they differ (AppArmor, /etc/network, one session rule).
# Rules: the benchmark's audit text, one requirement per ComplianceAsCode rule (ensure merges
# the syscalls of rules that differ only in them); CaC ids: ComplianceAsCode/content b3a2cca9 control
# files cis_rhel9.yml and cis_debian12.yml. Keys are those CIS writes; any key satisfies a
# requirement. $ARCH expands to b32 and b64 on 64-bit machines; $UID_MIN is UID_MIN from
# /etc/login.defs (1000 when absent).
profile cis-linux
title CIS Linux benchmark audit rules (CIS RHEL 9 v2.0.0 6.3.3; Debian 12 / Ubuntu 6.2.3)
source CIS Red Hat Enterprise Linux 9 Benchmark v2.0.0; CIS Debian Linux 12 Benchmark v1.1.0
variants rhel9 debian
variant-for debian ubuntu -> debian
variant-for rhel centos fedora rocky almalinux ol -> rhel9

control 6.3.3.1 debian=6.2.3.1
title Ensure changes to system administration scope (sudoers) is collected
rule cac=audit_rules_sysadmin_actions -w /etc/sudoers -p wa -k scope
rule cac=audit_rules_sysadmin_actions -w /etc/sudoers.d -p wa -k scope

control 6.3.3.2 debian=6.2.3.2
title Ensure actions as another user are always logged
rule cac=audit_rules_suid_auid_privilege_function -a always,exit -F arch=$ARCH -S execve -C euid!=uid -F auid!=unset -k user_emulation

control 6.3.3.3 debian=6.2.3.3
title Ensure events that modify the sudo log file are collected
rule cac=audit_sudo_log_events -w /var/log/sudo.log -p wa -k sudo_log_file

control 6.3.3.4 debian=6.2.3.4
title Ensure events that modify date and time information are collected
rule cac=audit_rules_time_adjtimex -a always,exit -F arch=$ARCH -S adjtimex -k time-change
rule cac=audit_rules_time_settimeofday -a always,exit -F arch=$ARCH -S settimeofday -k time-change
rule cac=audit_rules_time_clock_settime -a always,exit -F arch=$ARCH -S clock_settime -F a0=0x0 -k time-change
rule cac=audit_rules_time_watch_localtime -w /etc/localtime -p wa -k time-change

control 6.3.3.5 debian=6.2.3.5
title Ensure events that modify the system's network environment are collected
rule cac=audit_rules_networkconfig_modification -a always,exit -F arch=$ARCH -S sethostname,setdomainname -k system-locale
rule cac=audit_rules_networkconfig_modification -w /etc/issue -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification -w /etc/issue.net -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification -w /etc/hosts -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification only=rhel9 -w /etc/sysconfig/network -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification_hostname_file only=rhel9 -w /etc/hostname -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification_network_scripts only=rhel9 -w /etc/sysconfig/network-scripts -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification_networkmanager only=rhel9 -w /etc/NetworkManager -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification only=debian -w /etc/networks -p wa -k system-locale
rule cac=audit_rules_networkconfig_modification only=debian -w /etc/network -p wa -k system-locale

control 6.3.3.6 debian=6.2.3.6
title Ensure use of privileged commands are collected
rule cac=audit_rules_privileged_commands for=setuid-files -a always,exit -F path=$FILE -F perm=x -F auid>=$UID_MIN -F auid!=unset -k privileged

control 6.3.3.7 debian=6.2.3.7
title Ensure unsuccessful file access attempts are collected
rule cac=audit_rules_unsuccessful_file_modification_creat -a always,exit -F arch=$ARCH -S creat -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_creat -a always,exit -F arch=$ARCH -S creat -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_open -a always,exit -F arch=$ARCH -S open -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_open -a always,exit -F arch=$ARCH -S open -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_openat -a always,exit -F arch=$ARCH -S openat -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_openat -a always,exit -F arch=$ARCH -S openat -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_truncate -a always,exit -F arch=$ARCH -S truncate -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_truncate -a always,exit -F arch=$ARCH -S truncate -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_ftruncate -a always,exit -F arch=$ARCH -S ftruncate -F exit=-EACCES -F auid>=$UID_MIN -F auid!=unset -k access
rule cac=audit_rules_unsuccessful_file_modification_ftruncate -a always,exit -F arch=$ARCH -S ftruncate -F exit=-EPERM -F auid>=$UID_MIN -F auid!=unset -k access

control 6.3.3.8 debian=6.2.3.8
title Ensure events that modify user/group information are collected
rule cac=audit_rules_usergroup_modification_group -w /etc/group -p wa -k identity
rule cac=audit_rules_usergroup_modification_passwd -w /etc/passwd -p wa -k identity
rule cac=audit_rules_usergroup_modification_gshadow -w /etc/gshadow -p wa -k identity
rule cac=audit_rules_usergroup_modification_shadow -w /etc/shadow -p wa -k identity
rule cac=audit_rules_usergroup_modification_opasswd -w /etc/security/opasswd -p wa -k identity
rule cac=audit_rules_usergroup_modification_nsswitch_conf -w /etc/nsswitch.conf -p wa -k identity
rule cac=audit_rules_usergroup_modification_pam_conf -w /etc/pam.conf -p wa -k identity
rule cac=audit_rules_usergroup_modification_pamd -w /etc/pam.d -p wa -k identity

control 6.3.3.9 debian=6.2.3.9
title Ensure discretionary access control permission modification events are collected
rule cac=audit_rules_dac_modification_chmod -a always,exit -F arch=$ARCH -S chmod -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchmod -a always,exit -F arch=$ARCH -S fchmod -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchmodat -a always,exit -F arch=$ARCH -S fchmodat -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_chown -a always,exit -F arch=$ARCH -S chown -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchown -a always,exit -F arch=$ARCH -S fchown -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lchown -a always,exit -F arch=$ARCH -S lchown -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fchownat -a always,exit -F arch=$ARCH -S fchownat -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_setxattr -a always,exit -F arch=$ARCH -S setxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lsetxattr -a always,exit -F arch=$ARCH -S lsetxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fsetxattr -a always,exit -F arch=$ARCH -S fsetxattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_removexattr -a always,exit -F arch=$ARCH -S removexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_lremovexattr -a always,exit -F arch=$ARCH -S lremovexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod
rule cac=audit_rules_dac_modification_fremovexattr -a always,exit -F arch=$ARCH -S fremovexattr -F auid>=$UID_MIN -F auid!=unset -k perm_mod

control 6.3.3.10 debian=6.2.3.10
title Ensure successful file system mounts are collected
rule cac=audit_rules_media_export -a always,exit -F arch=$ARCH -S mount -F auid>=$UID_MIN -F auid!=unset -k mounts

control 6.3.3.11 debian=6.2.3.11
title Ensure session initiation information is collected
rule cac=audit_rules_session_events_utmp only=rhel9 -w /var/run/utmp -p wa -k session
rule cac=audit_rules_session_events_wtmp only=rhel9 -w /var/log/wtmp -p wa -k session
rule cac=audit_rules_session_events_btmp only=rhel9 -w /var/log/btmp -p wa -k session
rule cac=audit_rules_session_events only=debian -w /var/run/utmp -p wa -k session
rule cac=audit_rules_session_events only=debian -w /var/log/wtmp -p wa -k session
rule cac=audit_rules_session_events only=debian -w /var/log/btmp -p wa -k session

control 6.3.3.12 debian=6.2.3.12
title Ensure login and logout events are collected
rule cac=audit_rules_login_events_lastlog -w /var/log/lastlog -p wa -k logins
rule cac=audit_rules_login_events_faillock -w /var/run/faillock -p wa -k logins

control 6.3.3.13 debian=6.2.3.13
title Ensure file deletion events by users are collected
rule cac=audit_rules_file_deletion_events_rename -a always,exit -F arch=$ARCH -S rename -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_renameat -a always,exit -F arch=$ARCH -S renameat -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_unlink -a always,exit -F arch=$ARCH -S unlink -F auid>=$UID_MIN -F auid!=unset -k delete
rule cac=audit_rules_file_deletion_events_unlinkat -a always,exit -F arch=$ARCH -S unlinkat -F auid>=$UID_MIN -F auid!=unset -k delete

control 6.3.3.14 debian=6.2.3.14
title Ensure events that modify the system's Mandatory Access Controls are collected
rule cac=audit_rules_mac_modification only=rhel9 -w /etc/selinux -p wa -k MAC-policy
rule cac=audit_rules_mac_modification_usr_share only=rhel9 -w /usr/share/selinux -p wa -k MAC-policy
rule cac=audit_rules_mac_modification_etc_apparmor only=debian -w /etc/apparmor -p wa -k MAC-policy
rule cac=audit_rules_mac_modification_etc_apparmor_d only=debian -w /etc/apparmor.d -p wa -k MAC-policy

control 6.3.3.15 debian=6.2.3.15
title Ensure successful and unsuccessful attempts to use the chcon command are collected
rule cac=audit_rules_execution_chcon -a always,exit -F path=/usr/bin/chcon -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_chng

control 6.3.3.16 debian=6.2.3.16
title Ensure successful and unsuccessful attempts to use the setfacl command are collected
rule cac=audit_rules_execution_setfacl -a always,exit -F path=/usr/bin/setfacl -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_chng

control 6.3.3.17 debian=6.2.3.17
title Ensure successful and unsuccessful attempts to use the chacl command are collected
rule cac=audit_rules_execution_chacl -a always,exit -F path=/usr/bin/chacl -F perm=x -F auid>=$UID_MIN -F auid!=unset -k perm_chng

control 6.3.3.18 debian=6.2.3.18
title Ensure successful and unsuccessful attempts to use the usermod command are collected
rule cac=audit_rules_privileged_commands_usermod -a always,exit -F path=/usr/sbin/usermod -F perm=x -F auid>=$UID_MIN -F auid!=unset -k usermod

control 6.3.3.19 debian=6.2.3.19
title Ensure kernel module loading unloading and modification is collected
rule cac=audit_rules_kernel_module_loading_init -a always,exit -F arch=$ARCH -S init_module -F auid>=$UID_MIN -F auid!=unset -k kernel_modules
rule cac=audit_rules_kernel_module_loading_finit -a always,exit -F arch=$ARCH -S finit_module -F auid>=$UID_MIN -F auid!=unset -k kernel_modules
rule cac=audit_rules_kernel_module_loading_delete -a always,exit -F arch=$ARCH -S delete_module -F auid>=$UID_MIN -F auid!=unset -k kernel_modules
rule cac=audit_rules_kernel_module_loading_create -a always,exit -F arch=$ARCH -S create_module -F auid>=$UID_MIN -F auid!=unset -k kernel_modules
rule cac=audit_rules_kernel_module_loading_query -a always,exit -F arch=$ARCH -S query_module -F auid>=$UID_MIN -F auid!=unset -k kernel_modules
rule cac=audit_rules_privileged_commands_kmod -a always,exit -F path=/usr/bin/kmod -F perm=x -F auid>=$UID_MIN -F auid!=unset -k kernel_modules

control 6.3.3.20 debian=6.2.3.20
title Ensure the audit configuration is immutable
rule cac=audit_rules_immutable -e 2

control 6.3.3.21 debian=6.2.3.21
title Ensure the running and on disk configuration is the same
check in-sync
