/* startup.c — a minimal Cortex-M start for the semihosting firmware of `edgeint8 codegen`
 * (QEMU mps2/mps3 boards): the vector table, the FPU/MVE enable, the command line from the
 * semihosting host (SYS_GET_CMDLINE) and exit(main(argc, argv)). newlib's librdimon
 * (--specs=rdimon.specs) turns stdio into semihosting calls. The image is loaded by the
 * debugger / QEMU as is: .data needs no copy and .bss arrives zeroed. */
#include <stdint.h>
#include <stdlib.h>

extern int main(int argc, char** argv);
extern void initialise_monitor_handles(void);
extern uint32_t __stack_top;

void Reset_Handler(void);
void Fault_Handler(void);
void _init(void);
void _fini(void);

void _init(void) {}
void _fini(void) {}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(uintptr_t)&__stack_top,
    Reset_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler,
    Fault_Handler};

static int semihost(int op, void* arg) {
  register int r0 __asm__("r0") = op;
  register void* r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

/* A fault ends the run with an error (SYS_EXIT, ADP_Stopped_RunTimeErrorUnknown) instead of
 * spinning until the host's timeout. */
void Fault_Handler(void) {
  for (;;) semihost(0x18 /* SYS_EXIT */, (void*)0x20024);
}

static char cmdline[512];
static char* args[8];

void Reset_Handler(void) {
  struct {
    char* buf;
    int len;
  } block;
  int argc = 0;
  char* p = cmdline;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  *(volatile uint32_t*)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  initialise_monitor_handles();
  block.buf = cmdline;
  block.len = (int)sizeof cmdline - 1;
  if (semihost(0x15 /* SYS_GET_CMDLINE */, &block) == 0) {
    cmdline[block.len] = '\0';
    while (*p != '\0' && argc < 7) {
      while (*p == ' ') ++p;
      if (*p == '\0') break;
      args[argc++] = p;
      while (*p != '\0' && *p != ' ') ++p;
      if (*p != '\0') *p++ = '\0';
    }
  }
  args[argc] = NULL;
  exit(main(argc, args));
}
