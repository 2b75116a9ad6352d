-- One database per service (docker-compose mounts this into the postgres container).
CREATE DATABASE nx_planning;
CREATE DATABASE nx_review;
CREATE DATABASE nx_approval;
