lock fetch
call local
lock
