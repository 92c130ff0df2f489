#!/bin/bash

source common.sh


echo "-a always,exit -F path=/usr/bin/newgrp ${perm_x} -F auid>=1000 -F auid!=unset -k test_key" >> /etc/audit/rules.d/test_key.rules

