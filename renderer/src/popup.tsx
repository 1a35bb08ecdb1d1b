document.getElementById('root')!.textContent = 'Callpop popup';
