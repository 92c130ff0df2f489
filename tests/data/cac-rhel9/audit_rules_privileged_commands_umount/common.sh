
perm_x="-F perm=x"


rm -f /etc/audit/rules.d/*.rules
truncate -s 0 /etc/audit/audit.rules
