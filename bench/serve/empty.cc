// An empty program, linked statically with glibc (process_start.cc).
int main() {
  return 0;
}
