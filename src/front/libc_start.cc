// The front's entry point when it is built on the C library (sanitizer builds
// and architectures start.cc does not cover): the same code, libc's start-up.
namespace iso::front {
int main(int argc, char** argv, char** envp);
}

int main(int argc, char** argv, char** envp) {
  return iso::front::main(argc, argv, envp);
}
