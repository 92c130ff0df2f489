#!/bin/bash

source common.sh


echo "-a always,exit -F path=/usr/sbin/postdrop ${perm_x} -F auid!=unset -k test_key" >> /etc/audit/rules.d/test_key.rules

