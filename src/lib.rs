//! rvm: compile, verify and run rvm programs, from the command line or embedded.
