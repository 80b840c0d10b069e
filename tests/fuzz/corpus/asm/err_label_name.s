1abc: exit
