document.getElementById('root')!.textContent = 'Callpop index';
