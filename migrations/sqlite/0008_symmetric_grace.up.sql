-- Version 8 changes authd_rotate_refresh in Postgres (a symmetric grace window); SQLite
-- rotates in C++ (store/sqlite/sessions.cpp), which applies the same rule. Nothing to change.
SELECT 1;
