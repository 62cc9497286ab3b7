// Placeholder until the daemon is wired.
int main() { return 0; }
