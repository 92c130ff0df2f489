#!/bin/bash
# packages = audit
source common.sh


  
  sed -i "s%^ExecStartPost=.*%ExecStartPost=-/sbin/auditctl%" /usr/lib/systemd/system/auditd.service
  
  


echo "-a always,exit -F path=/usr/sbin/postqueue ${perm_x} -F auid>=1000 -F auid!=unset -k test_key" >> /etc/audit/audit.rules

