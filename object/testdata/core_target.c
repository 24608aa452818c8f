// core_target.c is not a program: its BTF stands for the types of a target
// (a kernel, or bpfhost's own context types) that core.c is relocated
// against. The layouts differ from core.c on purpose; struct only_local is
// missing, so is ctx_like.removed, and ctx_like.ulen is 8 bytes wide
// instead of 4.
struct ctx_like {
	long pad;
	int b;
	int a;
	unsigned int other : 7, mode : 5, flags : 3;
	unsigned long ulen;
	int arr[8];
	struct {
		long y;
		int x;
	} nested;
};

enum color { GREEN = 20, RED = 10 };

struct ctx_like target_ctx;
enum color target_color;
