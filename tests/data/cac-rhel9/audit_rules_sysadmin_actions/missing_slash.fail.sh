#!/bin/bash
# packages = audit


echo "-a always,exit -F arch=b32 -F path=/etc/sudoers -F perm=wa -F key=actions" >> /etc/audit/rules.d/actions.rules
echo "-a always,exit -F arch=b64 -F path=/etc/sudoers -F perm=wa -F key=actions" >> /etc/audit/rules.d/actions.rules
echo "-a always,exit -F arch=b32 -F dir=/etc/sudoers.d -F perm=wa -F key=actions" >> /etc/audit/rules.d/actions.rules
echo "-a always,exit -F arch=b64 -F dir=/etc/sudoers.d -F perm=wa -F key=actions" >> /etc/audit/rules.d/actions.rules

